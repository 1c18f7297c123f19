import { type Facts, byCount, hhmm, isErrorSignature, isUpstreamSignature, plural, quoted, short } from '../facts';
import { Assessment, type CauseRule } from '../rule';
import { databaseTrouble } from './deployment';

/** Upstream timeouts or refused connections while the service itself is healthy. */
export const dependencyRule: CauseRule = {
  cause: 'dependency',
  assess(f: Facts) {
    const errors = (f.signatures ?? []).filter(isErrorSignature);
    const upstream = byCount(errors.filter(isUpstreamSignature));
    if (upstream.length === 0) return null;
    const a = new Assessment('dependency');
    const top = upstream[0];
    a.for(0.45, 'logs', `${quoted(top)} ${top.count}× since ${hhmm(top.firstSeen)}`, top.link ?? f.logsLink);
    const total = errors.reduce((n, s) => n + s.count, 0);
    const up = upstream.reduce((n, s) => n + s.count, 0);
    if (total > 0 && up / total >= 0.5) a.for(0.1, 'logs', `${Math.round((100 * up) / total)} % of the error lines are calls to another service failing`);
    if (f.ecs && f.ecs.missing === 0 && f.ecs.oomKills === 0) a.for(0.15, 'ecs', `the service itself is up: ${f.ecs.running ?? '?'} of ${f.ecs.desired ?? '?'} tasks running, no OOM kill`, f.ecs.link);
    if (f.alb && f.alb.healthy > 0 && f.alb.unhealthy === 0) a.for(0.1, 'alb', `no target fails its health check (${f.alb.healthy} of ${f.alb.total} healthy)`, f.alb.targetGroups[0]?.link);
    if (databaseTrouble(f)) a.against(0.3, 'aurora', `the Aurora writer is ${f.aurora?.writerStatus ?? 'down'}: the database, not another service`);
    if (f.alb && f.alb.unhealthy > 0) a.against(0.1, 'alb', `${plural(f.alb.unhealthy, 'target')} fail their health checks`);
    if (f.ecs && f.ecs.oomKills > 0) a.against(0.2, 'ecs', `${plural(f.ecs.oomKills, 'task')} killed for memory`);
    return a.result(`a dependency fails: "${short(top.signature, 80)}"`);
  },
};
