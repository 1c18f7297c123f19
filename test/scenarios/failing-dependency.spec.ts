import { countFrom, every, stepUp } from './support/production';
import { scenario } from './support/scenario';

/** The payment provider stops answering: checkout is healthy (tasks, CPU, targets, database) but its calls upstream time out or are refused. */
scenario({
  name: 'failing dependency',
  metrics: { target5xx: countFrom(38, -5), elb5xx: countFrom(2, -5), responseTime: stepUp(0.12, 5.1, -5) },
  logs: () => [
    ...every(0.2, -5, (m, i) => `ERROR [payments-client] upstream request timeout after 5000 ms: POST https://api.payments.example/v2/charges attempt=${(i % 3) + 1}`),
    ...every(0.5, -4.9, () => 'ERROR [payments-client] connect ECONNREFUSED 10.42.9.21:443'),
  ],
  expect: {
    cause: 'dependency',
    evidence: [{ step: 'logs', text: /timeout|ECONNREFUSED/i }],
    gaps: [],
    automatic: [],
    proposed: [],
  },
  evidence: (o) => {
    expect(o.output('ecs')).toMatchObject({ missing: 0, oomKills: 0 });
    expect(o.output('alb')).toMatchObject({ unhealthy: 0 });
    expect(o.output('aurora')).toMatchObject({ verdict: 'healthy' });
    expect(o.output('deploy')).toMatchObject({ correlated: false });
  },
});
