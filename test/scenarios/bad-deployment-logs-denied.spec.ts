import { countFrom, every, stepUp } from './support/production';
import { scenario } from './support/scenario';

/**
 * The same bad deployment, but Responder's role may not read the logs (AccessDenied on
 * FilterLogEvents): still a deployment, with the missing permission named as a gap. Without the
 * error signature that confirms it, people decide on the rollback.
 */
scenario({
  name: 'bad deployment, logs AccessDenied',
  checkout: { images: ['checkout:2026.11.4', 'checkout:2026.11.5'], deployedAt: -9 },
  metrics: { elb5xx: countFrom(12, -6), target5xx: countFrom(55, -6), responseTime: stepUp(0.12, 0.45, -6) },
  logs: () => every(0.25, -5.9, () => "ERROR [orders] TypeError: Cannot read properties of undefined (reading 'currency') at priceCart (/app/dist/cart.js:88:17)"),
  seed: (p) => p.deny('logs:FilterLogEvents', 'logs:FilterLogEvents'),
  expect: {
    cause: 'deployment',
    evidence: [{ step: 'deploy' }],
    gaps: [{ step: 'logs', reason: /logs:FilterLogEvents/ }],
    automatic: [],
    proposed: ['rollback'],
  },
  evidence: (o) => {
    expect(o.step('logs')).toMatchObject({ status: 'failed', error: expect.stringMatching(/logs:FilterLogEvents/) });
    expect(o.output('deploy')).toMatchObject({ correlated: true, minutes_before_onset: 9 });
  },
});
