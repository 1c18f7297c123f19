import { type Facts, byCount, hhmm, isDatabaseSignature, isErrorSignature, minutesBetween, ms, quoted, short } from '../facts';
import { Assessment, type CauseRule } from '../rule';

/**
 * A deployment shortly before the impact AND something new after it: an error signature first
 * seen after it landed, or tasks of its task definition failing. Timing alone is only a hint.
 * Argued against when the impact, or the database's trouble, began before it landed (the decoy).
 */
export const deploymentRule: CauseRule = {
  cause: 'deployment',
  assess(f: Facts) {
    const d = f.deployment;
    if (!d || !d.at || !(d.correlated || d.inProgress)) return null;
    const a = new Assessment('deployment');
    const landed = ms(d.at)!;
    const name = d.taskDefinition ? shortTd(d.taskDefinition) : (d.id ?? 'the last deployment');
    const lead = minutesBetween(d.at, f.startedAt);
    a.for(0.4, 'deploy', `deployment ${name} landed at ${hhmm(d.at)}${lead !== null && lead >= 0 ? `, ${lead} min before the impact began` : ''}`, d.link);

    const errors = (f.signatures ?? []).filter(isErrorSignature);
    const seen = (s: { firstSeen: string | null }) => ms(s.firstSeen);
    const newAfter = byCount(errors.filter((s) => seen(s) !== null && seen(s)! >= landed && !(isDatabaseSignature(s) && databaseTrouble(f))));
    const before = errors.filter((s) => seen(s) !== null && seen(s)! < landed);
    if (newAfter.length > 0) {
      const s = newAfter[0];
      a.for(0.45, 'logs', `${quoted(s)} first seen at ${hhmm(s.firstSeen)}, after the deployment (${s.count}×)`, s.link ?? f.logsLink);
    }

    const failing = failingOnNewTaskDefinition(f, d.taskDefinition);
    if (failing) a.for(newAfter.length > 0 ? 0.15 : 0.35, 'ecs', failing.text, failing.link);

    if (lead !== null && lead >= 0) {
      a.for(0.1, 'metrics', `the impact began at ${hhmm(f.startedAt)}, after the deployment`);
    } else if (lead !== null && lead < 0 && !d.inProgress) {
      a.against(0.6, 'metrics', `the impact began at ${hhmm(f.startedAt)}, ${-lead} min before the deployment landed`);
    }

    // The decoy: the database was already in trouble before this deployment landed.
    const dbBefore = before.filter(isDatabaseSignature);
    const auroraEvent = (f.aurora?.events ?? []).find((e) => ms(e.at) !== null && ms(e.at)! < landed);
    if (dbBefore.length > 0) {
      const s = byCount(dbBefore)[0];
      // With the writer seen healthy, earlier database errors are a weaker sign than with it down.
      const healthy = f.aurora?.verdict === 'healthy';
      a.against(healthy ? 0.15 : 0.5, 'logs', `database errors were logged before the deployment: "${short(s.signature)}" first seen at ${hhmm(s.firstSeen)}${healthy ? ' (the Aurora writer is available)' : ''}`);
    } else if (auroraEvent) {
      a.against(0.5, 'aurora', `the Aurora cluster was already failing over before the deployment: ${short(auroraEvent.message)} at ${hhmm(auroraEvent.at)}`);
    } else if (databaseTrouble(f)) {
      a.against(0.35, 'aurora', `the Aurora writer is ${f.aurora?.writerStatus ?? 'down'} (${f.aurora?.verdict}): the database explains the errors as well`);
    }
    const otherBefore = before.filter((s) => !isDatabaseSignature(s));
    if (newAfter.length === 0 && otherBefore.length > 0) {
      a.against(0.3, 'logs', `the errors were already logged before the deployment ("${short(byCount(otherBefore)[0].signature)}" since ${hhmm(byCount(otherBefore)[0].firstSeen)})`);
    } else if (f.signatures !== null && newAfter.length === 0 && !failing) {
      a.against(0.05, 'logs', 'no error signature first seen after the deployment');
    }
    return a.result(`deployment ${name} at ${hhmm(d.at)}${newAfter.length > 0 ? ` introduced "${short(newAfter[0].signature, 80)}"` : failing ? ' has failing tasks' : ' landed shortly before the impact'}`);
  },
};

/** The Aurora writer down or failing over. */
export function databaseTrouble(f: Facts): boolean {
  return f.aurora !== null && (f.aurora.verdict === 'writer-down' || f.aurora.failoverInProgress);
}

function failingOnNewTaskDefinition(f: Facts, taskDefinition: string | null): { text: string; link?: string } | null {
  if (!f.ecs || !taskDefinition) return null;
  const same = (td: string | null) => td !== null && sameTaskDefinition(td, taskDefinition);
  const dep = f.ecs.deployments.find((x) => same(x.taskDefinition) && (x.failedTasks > 0 || x.rolloutState === 'FAILED'));
  if (dep) return { text: `${dep.failedTasks} tasks of ${shortTd(taskDefinition)} failed to start or stay up (rollout ${dep.rolloutState ?? 'unknown'})`, ...(f.ecs.link ? { link: f.ecs.link } : {}) };
  const group = f.ecs.stoppedGroups.find((g) => same(g.taskDefinition) && !g.oom);
  if (group) return { text: `${group.count} tasks of ${shortTd(taskDefinition)} stopped: ${short(group.reason)}`, ...(group.link ? { link: group.link } : {}) };
  const oom = f.ecs.stoppedGroups.find((g) => same(g.taskDefinition));
  if (oom) return { text: `${oom.count} tasks of ${shortTd(taskDefinition)} killed for memory`, ...(oom.link ? { link: oom.link } : {}) };
  return null;
}

/** `family:revision` of an ARN or a short name. */
export function shortTd(td: string): string {
  return td.includes('/') ? td.slice(td.lastIndexOf('/') + 1) : td;
}

export function sameTaskDefinition(a: string, b: string): boolean {
  return shortTd(a) === shortTd(b);
}
