import { countFrom, every, ramp, steady } from './support/production';
import { scenario } from './support/scenario';

/** A memory leak (three days after the last deployment): checkout's tasks climb to their limit and are OOM-killed (exit 137) one after another. */
scenario({
  name: 'memory / OOM kills',
  checkout: {
    running: 2,
    stoppedTasks: [
      { count: 5, at: -4, stoppedReason: 'Essential container in task exited', stopCode: 'EssentialContainerExited', container: { exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' } },
    ],
    events: [{ at: -3, message: '(service checkout) has started 2 tasks: (task 6d1e0f3b) (task 9a4c2e71).' }],
  },
  metrics: { memory: ramp(55, -40, 99, -6), cpu: steady(44), elb5xx: countFrom(18, -7), target5xx: countFrom(12, -7) },
  logs: () => every(1, -15, (m) => `WARN  [gc] heap ${Math.min(98, Math.round(80 + (m + 15) * 1.2))}% of 1024 MB after full GC`),
  expect: {
    cause: 'memory',
    evidence: [{ step: 'ecs', text: /OutOfMemory|OOM|137|killed for memory/ }],
    gaps: [],
    automatic: [],
    // More tasks would only be killed in turn: people decide what to do about the leak.
    proposed: [],
  },
  evidence: (o) => {
    expect(o.output('ecs')).toMatchObject({ missing: 2, oomKills: 5, exitCodes: { '137': 5 } });
    expect(o.output('deploy')).toMatchObject({ correlated: false });
  },
});
