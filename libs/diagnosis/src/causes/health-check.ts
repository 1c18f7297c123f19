import { type Facts, hhmm, isErrorSignature } from '../facts';
import { Assessment, type CauseRule } from '../rule';
import { recentPersonChanges } from './configuration-change';

const CHECK_FAILURES = ['Target.ResponseCodeMismatch', 'Target.Timeout', 'Target.FailedHealthChecks'];

/** Targets failing their health checks while the application logs are clean: the check, not the app. */
export const healthCheckRule: CauseRule = {
  cause: 'health-check',
  assess(f: Facts) {
    const alb = f.alb;
    if (!alb || alb.unhealthy === 0) return null;
    const a = new Assessment('health-check');
    const reasons = CHECK_FAILURES.filter((r) => (alb.reasons[r] ?? 0) > 0).map((r) => `${r} ×${alb.reasons[r]}`);
    const group = alb.targetGroups.find((g) => g.summary.includes('unhealthy')) ?? alb.targetGroups[0];
    a.for(0.4, 'alb', `${alb.unhealthy} of ${alb.total} targets fail their health checks${reasons.length ? ` (${reasons.join(', ')})` : ''}${group?.healthCheckPath ? ` on ${group.healthCheckPath}` : ''}`, group?.link);
    const errors = f.signatures === null ? null : f.signatures.filter(isErrorSignature);
    if (errors !== null && errors.length === 0) a.for(0.3, 'logs', 'the application logs no error', f.logsLink);
    if (f.ecs && f.ecs.missing === 0 && f.ecs.oomKills === 0) a.for(0.15, 'ecs', `all ${f.ecs.running ?? '?'} tasks are running`, f.ecs.link);
    if (errors !== null && errors.length > 0) a.against(0.25, 'logs', `the application logs errors (${errors.length} signatures)`);
    const change = recentPersonChanges(f).find((c) => /target ?group/i.test(c.resourceType) || /TargetGroup/.test(c.eventName));
    if (change) a.against(0.2, 'changes', `${change.who} changed ${change.resourceName || 'the target group'} at ${hhmm(change.at)} (${change.eventName}): see configuration-change`);
    if ((alb.reasons['Target.InvalidState'] ?? 0) > 0) a.against(0.15, 'alb', 'some targets are on stopped instances (Target.InvalidState)');
    if (f.ecs && f.ecs.oomKills > 0) a.against(0.2, 'ecs', `${f.ecs.oomKills} tasks were killed for memory`);
    return a.result(`the health check fails healthy tasks${group?.healthCheckPath ? ` (${group.healthCheckPath})` : ''}`);
  },
};
