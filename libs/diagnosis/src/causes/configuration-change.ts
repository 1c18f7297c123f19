import { type ChangeFact, type Facts, hhmm, isUpstreamSignature, minutesBetween, ms } from '../facts';
import { Assessment, type CauseRule } from '../rule';
import { databaseTrouble } from './deployment';

/** How long before the impact a change is a suspect, and how late after it (clock skew, CloudTrail's rounding). */
const BEFORE_MINUTES = 60;
const AFTER_MINUTES = 2;

/** Changes to the service's resources in the suspect window before the impact (deployments excluded), newest first. */
export function recentChanges(f: Facts): ChangeFact[] {
  const start = ms(f.startedAt);
  if (start === null || !f.changes) return [];
  return f.changes
    .filter((c) => !c.isDeployment)
    .filter((c) => {
      const t = ms(c.at)!;
      return t <= start + AFTER_MINUTES * 60_000 && t >= start - BEFORE_MINUTES * 60_000;
    })
    .sort((x, y) => y.at.localeCompare(x.at));
}

export function recentPersonChanges(f: Facts): ChangeFact[] {
  return recentChanges(f).filter((c) => !c.byAutomation);
}

/** A person's (or, less likely, automation's) change to the service's resources just before the impact. */
export const configurationChangeRule: CauseRule = {
  cause: 'configuration-change',
  assess(f: Facts) {
    const changes = recentChanges(f);
    if (changes.length === 0) return null;
    const c = changes.find((x) => !x.byAutomation) ?? changes[0];
    const a = new Assessment('configuration-change');
    const lead = minutesBetween(c.at, f.startedAt);
    a.for(c.byAutomation ? 0.25 : 0.5, 'changes', `${c.who} ${c.summary} at ${hhmm(c.at)}${lead !== null && lead >= 0 ? `, ${lead} min before the impact` : ''}`, c.link);
    const symptom = matchingSymptom(f, c);
    if (symptom) a.for(0.3, symptom.step, symptom.text);
    if (changes.length > 1) a.against(0.05, 'changes', `${changes.length - 1} other changes in the same window`);
    if (databaseTrouble(f) && !/rds|db ?cluster/i.test(`${c.resourceType} ${c.eventName}`)) a.against(0.3, 'aurora', 'the Aurora writer is down, which the change does not explain');
    return a.result(`${c.who}'s ${c.eventName} on ${c.resourceName || c.resourceType || 'a resource'} at ${hhmm(c.at)}`);
  },
};

/** The symptom the changed resource would produce, if it shows. */
function matchingSymptom(f: Facts, c: ChangeFact): { step: string; text: string } | null {
  const what = `${c.resourceType} ${c.eventName}`;
  if (/target ?group/i.test(what) && f.alb && f.alb.unhealthy > 0) return { step: 'alb', text: `${f.alb.unhealthy} targets of the changed target group fail their health checks` };
  if (/security ?group/i.test(what)) {
    if (f.alb && f.alb.unhealthy > 0) return { step: 'alb', text: `${f.alb.unhealthy} targets unreachable for health checks since the security group changed` };
    if ((f.signatures ?? []).some(isUpstreamSignature)) return { step: 'logs', text: 'connections time out or are refused since the security group changed' };
  }
  if (/listener|load ?balancer|rule/i.test(what) && f.errorsUp) return { step: 'metrics', text: 'the load balancer answers 5xx since the listener changed' };
  if (/ecs|service/i.test(what) && f.ecs && f.ecs.missing > 0) return { step: 'ecs', text: `${f.ecs.missing} tasks missing since the service changed` };
  if (/rds|db ?cluster/i.test(what) && databaseTrouble(f)) return { step: 'aurora', text: 'the Aurora cluster changed and its writer is down' };
  return null;
}
