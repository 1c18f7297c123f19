import { countFrom, stepUp } from './support/production';
import { scenario } from './support/scenario';

/** Two of the cluster's four EC2 hosts stop: their tasks go with them, their targets are unused, and ECS cannot place replacements. */
scenario({
  name: 'lost hosts',
  hosts: { count: 4, stop: 2 },
  checkout: (p) => ({
    running: 2,
    stoppedTasks: p.instanceIds.slice(0, 2).map((id) => ({ count: 1, at: -7, stoppedReason: `Host EC2 (instance ${id}) stopped.` })),
    events: [
      { at: -5, message: '(service checkout) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance 5b3a9e2f) has insufficient memory available.' },
      { at: -1, message: '(service checkout) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance 5b3a9e2f) has insufficient memory available.' },
    ],
  }),
  metrics: { elb5xx: countFrom(25, -7), cpu: stepUp(38, 74, -7, 0.02), responseTime: stepUp(0.12, 0.6, -7) },
  expect: {
    cause: 'infrastructure',
    evidence: [{ step: 'ecs', text: /Host EC2|instance/ }],
    gaps: [],
    automatic: [],
    proposed: ['scale-up'],
  },
  evidence: (o) => {
    expect(o.output('alb')).toMatchObject({ reasons: { 'Target.InvalidState': 2 } });
    expect(o.output('ecs')).toMatchObject({ missing: 2, stopped: 2 });
    expect(o.output('deploy')).toMatchObject({ correlated: false });
  },
});
