import { countFrom, every, stepUp } from './support/production';
import { scenario } from './support/scenario';

/** A marketing push doubles checkout's traffic: every task is up and healthy, CPU is pinned, requests queue and time out. More tasks fix it. */
scenario({
  name: 'CPU capacity',
  metrics: {
    requests: stepUp(1200, 2700, -8),
    cpu: stepUp(41, 97, -8, 0.02),
    responseTime: stepUp(0.12, 2.4, -7),
    elb5xx: countFrom(35, -6),
    target5xx: countFrom(4, -6),
  },
  logs: () => every(0.2, -7, (m) => `WARN  [http] event loop lag ${1400 + Math.round(Math.abs(m) * 31) % 600} ms, request queue depth 512 over 256`),
  expect: {
    cause: 'capacity',
    evidence: [{ step: 'metrics', text: /CPU/ }],
    gaps: [],
    automatic: [],
    proposed: ['scale-up'],
  },
  // The on-call approves the scale-up, and the alarm clears.
  then: { approve: ['scale-up'], recover: true },
  evidence: (o) => {
    expect(o.output('metrics')).toMatchObject({ cpuHigh: true });
    expect(o.output('ecs')).toMatchObject({ desired: 4, running: 4, missing: 0, oomKills: 0 });
    expect(o.output('deploy')).toMatchObject({ correlated: false });
    expect(o.output('alb')).toMatchObject({ unhealthy: 0 });
    expect(o.step('scale-up').plan).toBe(`UpdateService ${o.production.cluster}/checkout desiredCount 4 → 8`);
  },
});
