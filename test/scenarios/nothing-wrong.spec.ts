import { scenario } from './support/scenario';

/** The alarm fired on a blip: three 5xx in one minute, nothing else moved. The honest answer is "unknown", and nothing is proposed. */
scenario({
  name: 'nothing wrong',
  metrics: { elb5xx: (m) => (m === -1 ? 3 : null) },
  expect: { cause: 'unknown', gaps: [], automatic: [], proposed: [] },
  // The blip is over by itself.
  then: { recover: true },
  evidence: (o) => {
    expect(o.output('ecs')).toMatchObject({ missing: 0, oomKills: 0 });
    expect(o.output('alb')).toMatchObject({ unhealthy: 0 });
    expect(o.output('aurora')).toMatchObject({ verdict: 'healthy' });
    expect(o.output('deploy')).toMatchObject({ correlated: false });
    expect(o.output('metrics')).toMatchObject({ cpuHigh: false, errorsUp: false });
    expect(o.output('logs')).toMatchObject({ distinctSignatures: 0 });
  },
});
