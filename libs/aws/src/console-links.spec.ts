import {
  cloudTrailEventLink,
  codeDeployDeploymentLink,
  ecsServiceLink,
  ecsTaskLink,
  insightsString,
  jsurl,
  logsInsightsLink,
  metricGraphLink,
  rdsClusterLink,
  targetGroupLink,
  taskDefinitionLink,
} from './console-links';

const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/checkout-blue/73e2d6bc24d8a067';

describe('console links', () => {
  it('are built for the region, on the console of its partition', () => {
    expect(targetGroupLink('eu-west-1', TG)).toBe(`https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#TargetGroup:targetGroupArn=${TG}`);
    expect(rdsClusterLink('cn-north-1', 'orders')).toBe('https://console.amazonaws.cn/rds/home?region=cn-north-1#database:id=orders;is-cluster=true');
    expect(rdsClusterLink('us-gov-west-1', 'orders')).toMatch(/^https:\/\/console\.amazonaws-us-gov\.com\/rds\/home\?region=us-gov-west-1#/);
  });

  it('are null without a region, or with something that is not one (no link rather than a wrong one)', () => {
    expect(targetGroupLink(null, TG)).toBeNull();
    expect(ecsServiceLink(undefined, 'prod', 'checkout')).toBeNull();
    expect(rdsClusterLink('evil.example.com/', 'x')).toBeNull();
  });

  it('ECS: service tabs, a task, a task definition revision (ARN or family:revision)', () => {
    expect(ecsServiceLink('us-east-1', 'prod', 'checkout')).toBe('https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout/events?region=us-east-1');
    expect(ecsServiceLink('us-east-1', 'prod', 'checkout', 'deployments')).toContain('/services/checkout/deployments?region=us-east-1');
    expect(ecsTaskLink('us-east-1', 'prod', '0f2b7c')).toBe('https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/0f2b7c/configuration?region=us-east-1');
    expect(taskDefinitionLink('us-east-1', 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:42')).toBe(
      'https://us-east-1.console.aws.amazon.com/ecs/v2/task-definitions/checkout/42?region=us-east-1',
    );
    expect(taskDefinitionLink('us-east-1', 'checkout:7')).toContain('/task-definitions/checkout/7?');
    expect(taskDefinitionLink('us-east-1', 'not a task definition')).toBeNull();
  });

  it('CodeDeploy deployment and CloudTrail event', () => {
    expect(codeDeployDeploymentLink('us-east-1', 'd-ABC123')).toBe('https://us-east-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-ABC123?region=us-east-1');
    expect(cloudTrailEventLink('us-east-1', '6c1d8f0e-1b2a-4c3d-9e8f-0a1b2c3d4e5f')).toBe(
      'https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/6c1d8f0e-1b2a-4c3d-9e8f-0a1b2c3d4e5f',
    );
  });

  it('jsurl writes what the CloudWatch console reads', () => {
    expect(jsurl({ a: 1, b: 'x/y z', c: [true, 'q'], d: null })).toBe("~(a~1~b~'x*2fy*20z~c~(~true~'q)~d~null)");
    expect(jsurl([])).toBe('~(~)');
    expect(jsurl('a$b€')).toBe("~'a!b**20ac");
  });

  it('a metric graph carries the exact query: namespace, name, dimensions, stat, period and the window', () => {
    const link = metricGraphLink(
      'us-east-1',
      { namespace: 'AWS/ApplicationELB', name: 'HTTPCode_ELB_5XX_Count', dimensions: { LoadBalancer: 'app/prod-alb/50dc' }, stat: 'Sum', period: 60 },
      { start: '2026-03-01T09:00:00.000Z', end: '2026-03-01T10:20:00.000Z' },
    );
    expect(link).toBe(
      'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#metricsV2:graph=' +
        "~(metrics~(~(~'AWS*2fApplicationELB~'HTTPCode_ELB_5XX_Count~'LoadBalancer~'app*2fprod-alb*2f50dc))~view~'timeSeries~stacked~false~region~'us-east-1" +
        "~stat~'Sum~period~60~start~'2026-03-01T09*3a00*3a00.000Z~end~'2026-03-01T10*3a20*3a00.000Z)",
    );
  });

  it('Logs Insights: the query and groups as JSURL inside a $-escaped queryDetail', () => {
    const link = logsInsightsLink('us-east-1', ['/ecs/prod/checkout'], 'fields @message | filter @message like "FATAL"', {
      start: '2026-03-01T09:50:00.000Z',
      end: '2026-03-01T10:20:00.000Z',
    })!;
    expect(link.startsWith('https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:logs-insights$3FqueryDetail$3D~(')).toBe(true);
    expect(link).not.toContain('%');
    // Undo the two layers and find the query and the group again.
    const detail = decodeURIComponent(link.split('logs-insights')[1].replace(/\$/g, '%'));
    expect(detail).toContain("editorString~'fields*20*40message*20*7c*20filter*20*40message*20like*20*22FATAL*22");
    expect(detail).toContain("source~(~'*2fecs*2fprod*2fcheckout)");
    expect(detail).toContain("timeType~'ABSOLUTE");
  });

  it('insightsString quotes a literal for a Logs Insights query', () => {
    expect(insightsString('say "hi" \\ now')).toBe('"say \\"hi\\" \\\\ now"');
  });
});
