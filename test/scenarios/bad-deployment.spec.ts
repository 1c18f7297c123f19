import { countFrom, every, stepUp } from './support/production';
import { scenario } from './support/scenario';

/** checkout 2026.11.5 went out 9 minutes before the alarm and throws on every priced cart: roll it back, no one needs to wake up for that. */
scenario({
  name: 'bad deployment',
  checkout: { images: ['checkout:2026.11.4', 'checkout:2026.11.5'], deployedAt: -9 },
  metrics: { elb5xx: countFrom(12, -6), target5xx: countFrom(55, -6), responseTime: stepUp(0.12, 0.45, -6) },
  logs: () => [
    { at: -6.1, message: 'INFO  [boot] checkout 2026.11.5 listening on :8080' },
    ...every(0.25, -5.9, (m) => `ERROR [orders] TypeError: Cannot read properties of undefined (reading 'currency') at priceCart (/app/dist/cart.js:88:17) cart=${Math.round(m * 1000 + 90000)}`),
  ],
  trail: (p) => [
    {
      at: -13,
      eventName: 'UpdateService',
      eventSource: 'ecs.amazonaws.com',
      who: { type: 'AssumedRole', name: 'GitHubActions', role: 'github-actions-deploy' },
      resources: [{ type: 'AWS::ECS::Service', name: `arn:aws:ecs:us-east-1:123456789012:service/${p.cluster}/checkout` }],
      requestParameters: { cluster: p.cluster, service: 'checkout', taskDefinition: p.taskDefinitions.at(-1) },
    },
  ],
  expect: {
    cause: 'deployment',
    minConfidence: 0.8,
    evidence: [{ step: 'deploy' }, { step: 'logs', text: /TypeError/ }],
    gaps: [],
    automatic: ['rollback'],
    proposed: [],
  },
  // The rollback works: the alarm clears, and alice takes the postmortem into review.
  then: { recover: true, postmortem: { owner: 'alice@example.com', status: 'review' } },
  evidence: (o) => {
    expect(o.output('deploy')).toMatchObject({ controller: 'ECS', correlated: true, minutes_before_onset: 9 });
    expect(o.output('metrics')).toMatchObject({ errorsUp: true, impactStartedAt: o.production.at(-6) });
    const signatures = o.output<{ signatures: { sample: string; firstSeen: string }[] }>('logs').signatures;
    expect(signatures[0].sample).toMatch(/TypeError: Cannot read properties of undefined/);
    expect(signatures[0].firstSeen).toBe(o.production.at(-5.9));
    // Health checks and INFO lines that merely mention "error" are not error signatures.
    expect(signatures.filter((s) => /^(INFO|WARN)/.test(s.sample))).toEqual([]);
  },
});
