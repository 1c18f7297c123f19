import { type Facts, byCount, isMemorySignature, short } from '../facts';
import { Assessment, type CauseRule } from '../rule';
import { databaseTrouble } from './deployment';

/** OOM kills / exit 137 with memory near its limit. */
export const memoryRule: CauseRule = {
  cause: 'memory',
  assess(f: Facts) {
    const a = new Assessment('memory');
    const oomGroup = f.ecs?.stoppedGroups.find((g) => g.oom);
    if (f.ecs && f.ecs.oomKills > 0) a.for(0.5, 'ecs', `${f.ecs.oomKills} tasks killed for memory${oomGroup ? `: ${short(oomGroup.reason)}` : ''}`, oomGroup?.link ?? f.ecs.link);
    const mem = f.metrics?.find((m) => m.id === 'ecs_memory');
    const high = mem ? Math.max(mem.current ?? 0, mem.peak ?? 0) : 0;
    if (mem && high >= 90) a.for(0.3, 'metrics', `${mem.label} at ${Math.round(high)} % (baseline ${Math.round(mem.baseline ?? 0)} %)`, mem.link);
    else if (mem && high >= 80 && a.hasEvidence) a.for(0.15, 'metrics', `${mem.label} at ${Math.round(high)} %`, mem.link);
    const sig = byCount((f.signatures ?? []).filter(isMemorySignature))[0];
    if (sig) a.for(0.15, 'logs', `"${short(sig.signature)}" (${sig.count}×)`, sig.link ?? f.logsLink);
    if (!a.hasEvidence) return null;
    if (f.ecs && f.ecs.oomKills === 0) a.against(0.2, 'ecs', 'no task was killed for memory');
    if (mem && high < 70) a.against(0.2, 'metrics', `${mem.label} peaked at ${Math.round(high)} %`);
    if (databaseTrouble(f)) a.against(0.2, 'aurora', `the Aurora writer is ${f.aurora?.writerStatus ?? 'down'}`);
    return a.result(`tasks run out of memory${f.ecs && f.ecs.oomKills > 0 ? ` (${f.ecs.oomKills} OOM kills)` : ''}`);
  },
};
