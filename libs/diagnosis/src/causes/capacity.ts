import { type Facts, type MetricFact, hhmm } from '../facts';
import { Assessment, type CauseRule } from '../rule';

/** CPU saturated while the tasks are healthy and more requests arrive: not enough tasks for the load. */
export const capacityRule: CauseRule = {
  cause: 'capacity',
  assess(f: Facts) {
    const a = new Assessment('capacity');
    const cpu = f.metrics?.find((m) => m.id === 'ecs_cpu');
    const requests = (f.metrics ?? []).filter((m) => /^tg\d+_requests$/.test(m.id));
    const risen = requests.find(rose);
    const placement = f.ecs?.events.find((e) => /unable to place a task|insufficient (cpu|memory)|reached.*max/i.test(e));
    if (f.cpuHigh && cpu) a.for(0.4, 'metrics', `${cpu.label} ${fmt(cpu.baseline)} → ${fmt(cpu.current)}${cpu.startedMovingAt ? ` from ${hhmm(cpu.startedMovingAt)}` : ''}`, cpu.link);
    else if (f.cpuHigh) a.for(0.4, 'metrics', 'CPU high (≥ 80 %)');
    if (risen) a.for(0.3, 'metrics', `${risen.label} ${fmt(risen.baseline)} → ${fmt(risen.current)} (more requests)`, risen.link);
    if (placement) a.for(0.3, 'ecs', `ECS: ${placement}`, f.ecs?.link);
    if (!a.hasEvidence) return null;
    const latency = (f.metrics ?? []).find((m) => /^tg\d+_latency$/.test(m.id) && m.startedMovingAt && rose(m));
    if (latency) a.for(0.1, 'metrics', `${latency.label} ${fmt(latency.baseline)} → ${fmt(latency.current)}`, latency.link);
    if (f.ecs && f.ecs.missing === 0 && f.ecs.oomKills === 0 && f.ecs.stoppedGroups.every((g) => g.count === 0 || !/error|exit/i.test(g.reason))) {
      a.for(0.1, 'ecs', `tasks are not crashing (${f.ecs.running ?? '?'} of ${f.ecs.desired ?? '?'} running)`, f.ecs.link);
    }
    if (f.cpuHigh && requests.length > 0 && !risen) a.against(0.25, 'metrics', 'requests did not rise: something other than load burns the CPU');
    if (f.ecs && f.ecs.oomKills > 0) a.against(0.2, 'ecs', `${f.ecs.oomKills} tasks were killed for memory`);
    return a.result(`CPU saturated${risen ? ' under more requests' : ''}: the service needs more tasks`);
  },
};

/** Current at least 1.5 × the baseline (or moving up from none). */
function rose(m: MetricFact): boolean {
  if (m.current === null) return false;
  if (m.baseline === null || m.baseline === 0) return m.current > 0 && m.startedMovingAt !== null;
  return m.current >= 1.5 * m.baseline;
}

function fmt(v: number | null): string {
  return v === null ? '?' : String(Math.round(v * 10) / 10);
}
