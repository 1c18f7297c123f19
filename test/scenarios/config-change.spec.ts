import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { countFrom, stepUp } from './support/production';
import { scenario } from './support/scenario';

/**
 * alice, at the console, points the production listener at a fixed 503 "maintenance" answer (she
 * meant staging) 4 minutes before the alarm: the ALB answers 5xx itself, checkout receives no
 * traffic, and everything behind it is healthy. CloudTrail answers slowly (as it does in a busy
 * account): the verdict must wait for it, or it never sees the change.
 */
scenario({
  name: "a person's config change",
  metrics: { elb5xx: countFrom(1150, -4), requests: stepUp(1200, 0, -4) },
  trail: (p) => [
    {
      at: -4.2,
      eventName: 'ModifyListener',
      eventSource: 'elasticloadbalancing.amazonaws.com',
      who: { type: 'IAMUser', name: 'alice' },
      resources: [
        { type: 'AWS::ElasticLoadBalancingV2::Listener', name: p.listenerArn },
        { type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', name: p.loadBalancerArn },
      ],
      requestParameters: { listenerArn: p.listenerArn, defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '503', contentType: 'text/plain', messageBody: 'maintenance' } }] },
    },
  ],
  seed: async (p) => {
    p.slowCloudTrail(2500);
    await p.elbClient().send(
      new ModifyListenerCommand({ ListenerArn: p.listenerArn, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'maintenance' } }] }),
    );
  },
  expect: {
    cause: 'configuration-change',
    evidence: [{ step: 'changes', text: /alice/ }],
    gaps: [],
    automatic: [],
    proposed: [],
  },
  evidence: (o) => {
    const changes = o.output<{ changes: { who: string; eventName: string; byAutomation: boolean; isDeployment: boolean }[] }>('changes').changes;
    expect(changes[0]).toMatchObject({ eventName: 'ModifyListener', who: expect.stringMatching(/alice/), byAutomation: false, isDeployment: false });
    expect(changes.some((c) => c.eventName === 'DescribeServices')).toBe(false); // read-only calls are not changes
    expect(o.output('alb')).toMatchObject({ unhealthy: 0 });
    expect(o.output('logs')).toMatchObject({ distinctSignatures: 0 });
  },
});
