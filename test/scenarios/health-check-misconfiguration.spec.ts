import { ModifyTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { countFrom, stepUp } from './support/production';
import { scenario } from './support/scenario';

/**
 * A Terraform apply (automation, not a person at a console) moved the target group's health check
 * to /health/ready, which checkout does not serve: targets fail with 404 and ECS replaces tasks
 * that were fine. The application logs have no error at all.
 */
scenario({
  name: 'health-check misconfiguration',
  checkout: (p) => ({
    stoppedTasks: [{ count: 4, at: -2, stoppedReason: `Task failed ELB health checks in (target-group ${p.targetGroupArn})`, stopCode: 'ServiceSchedulerInitiated', container: { exitCode: 143 } }],
  }),
  healthCheckLine: (m) => (m < -5 ? 'INFO  [http] GET /healthz 200 1.1ms ua="ELB-HealthChecker/2.0"' : 'INFO  [http] GET /health/ready 404 0.3ms ua="ELB-HealthChecker/2.0"'),
  metrics: { elb5xx: countFrom(60, -3), requests: stepUp(1200, 300, -3) },
  trail: (p) => [
    {
      at: -5.5,
      eventName: 'ModifyTargetGroup',
      eventSource: 'elasticloadbalancing.amazonaws.com',
      who: { type: 'AssumedRole', name: 'terraform-ci', role: 'terraform-apply' },
      resources: [{ type: 'AWS::ElasticLoadBalancingV2::TargetGroup', name: p.targetGroupArn }],
      requestParameters: { targetGroupArn: p.targetGroupArn, healthCheckPath: '/health/ready' },
    },
  ],
  seed: async (p) => {
    await p.elbClient().send(new ModifyTargetGroupCommand({ TargetGroupArn: p.targetGroupArn, HealthCheckPath: '/health/ready' }));
    p.targetHealth(
      p.instanceIds.map((id) => ({ id, state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [404]' })),
    );
  },
  expect: {
    cause: 'health-check',
    evidence: [{ step: 'alb', text: /ResponseCodeMismatch|404/ }],
    gaps: [],
    automatic: [],
    proposed: [],
  },
  evidence: (o) => {
    expect(o.output('alb')).toMatchObject({ unhealthy: 4, reasons: { 'Target.ResponseCodeMismatch': 4 } });
    expect(o.output('logs')).toMatchObject({ distinctSignatures: 0 });
    expect(o.output('deploy')).toMatchObject({ correlated: false });
  },
});
