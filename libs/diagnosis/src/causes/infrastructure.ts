import { type Facts, plural, short } from '../facts';
import { Assessment, type CauseRule } from '../rule';

const HOST_LOST = /(host ec2|ec2 instance|container instance|instance .*(terminat|stop|retir|deregist|drain)|terminat(ed|ion)|spot ?interruption|host (is )?(stopped|unavailable|impaired))/i;
const HOST_STOP_CODES = new Set(['SpotInterruption', 'TerminationNotice']);

/** The hosts under the tasks stopped or were terminated. */
export const infrastructureRule: CauseRule = {
  cause: 'infrastructure',
  assess(f: Facts) {
    const a = new Assessment('infrastructure');
    const lost = (f.ecs?.stoppedGroups ?? []).filter((g) => (g.stopCode !== null && HOST_STOP_CODES.has(g.stopCode)) || HOST_LOST.test(g.reason));
    if (lost.length > 0) {
      const n = lost.reduce((k, g) => k + g.count, 0);
      a.for(0.5, 'ecs', `${plural(n, 'task')} stopped with their host: ${short(lost[0].reason)}`, lost[0].link ?? f.ecs?.link);
    }
    const invalid = (f.alb?.reasons['Target.InvalidState'] ?? 0) + (f.alb?.reasons['Target.NotRegistered'] ?? 0);
    if (invalid > 0) a.for(0.25, 'alb', `${plural(invalid, 'target')} on stopped or deregistered instances (Target.InvalidState / NotRegistered)`, f.alb?.targetGroups[0]?.link);
    const event = f.ecs?.events.find((e) => HOST_LOST.test(e) || /unable to place a task/i.test(e));
    if (event) a.for(0.15, 'ecs', `ECS: ${short(event)}`, f.ecs?.link);
    if (!a.hasEvidence) return null;
    if (f.ecs && f.ecs.missing > 0) a.for(0.15, 'ecs', `${f.ecs.missing} of ${f.ecs.desired ?? '?'} tasks missing`, f.ecs.link);
    if (f.ecs && f.ecs.oomKills > 0) a.against(0.2, 'ecs', `${f.ecs.oomKills} tasks were killed for memory, not with their host`);
    return a.result('hosts under the service stopped or were terminated');
  },
};
