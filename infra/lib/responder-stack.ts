import { Annotations, CfnOutput, CfnParameter, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { IamPolicy } from '../../apps/cli/src/iam-policy';
import { SQS_STATEMENT_SID, computeTaskPolicy } from './task-policy';
import { suppress } from './nag';

/**
 * `sqs`: the reference setup. EventBridge rule → SQS queue (with a DLQ) ← the service long-polls it;
 * Slack in Socket Mode. Nothing reaches the service from outside: it runs in private subnets with
 * no load balancer.
 *
 * `api-destination`: the same, except that alarms arrive over HTTPS: EventBridge rule → API
 * destination (API-key connection) → an internet-facing ALB with TLS that forwards only
 * `POST /events/eventbridge` to the service.
 */
export type IntakeVariant = 'sqs' | 'api-destination';

export interface ResponderStackProps extends StackProps {
  intake: IntakeVariant;
  /** The runbooks directory baked into the image (runbooks/ of this repository by default). */
  runbooksDir: string;
  /** Name of the ECR repository holding the image (its tag is the ImageTag parameter). */
  ecrRepositoryName: string;
  /**
   * Slack in Socket Mode: complete ARNs of two secrets the operator created beforehand (the bot
   * token xoxb-… and the app-level token xapp-…). Both or neither; without them Slack is off and
   * approvals go through the HTTP API.
   */
  slack?: { botTokenSecretArn: string; appTokenSecretArn: string; channel?: string; teamId?: string };
  /** RESPONDER_MODE; `dry-run` plans and reports mutations without calling them. */
  mode: 'live' | 'dry-run';
  desiredCount: number;
  /** Interface endpoints for the AWS APIs the service calls (about 13 × 2 AZ endpoint-hours). */
  vpcEndpoints: boolean;
  /** Like `iam-policy --region/--account`: win over what the catalog's ARNs say. */
  policyRegion?: string;
  policyAccount?: string;
}

/** Port of the Redis replication group: not the default 6379 (cdk-nag AwsSolutions-AEC5). */
export const REDIS_PORT = 6380;
const CONTAINER_PORT = 3000;
/** The image's CMD (see Dockerfile); the entry point below wraps it to assemble REDIS_URL. */
const SERVICE_COMMAND = 'node dist/apps/responder/apps/responder/src/main.js';

/** The AWS APIs the service calls (libs/aws adapters, the SQS intake, ECR/logs/secrets for Fargate itself). */
const INTERFACE_ENDPOINTS: ReadonlyArray<[string, ec2.InterfaceVpcEndpointAwsService]> = [
  ['Ecs', ec2.InterfaceVpcEndpointAwsService.ECS],
  ['ElasticLoadBalancing', ec2.InterfaceVpcEndpointAwsService.ELASTIC_LOAD_BALANCING],
  ['CloudWatch', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING],
  ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
  ['CodeDeploy', ec2.InterfaceVpcEndpointAwsService.CODEDEPLOY],
  ['Rds', ec2.InterfaceVpcEndpointAwsService.RDS],
  ['Sqs', ec2.InterfaceVpcEndpointAwsService.SQS],
  ['CloudTrail', ec2.InterfaceVpcEndpointAwsService.CLOUDTRAIL],
  ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
  ['ApplicationAutoScaling', ec2.InterfaceVpcEndpointAwsService.APPLICATION_AUTOSCALING],
  ['EcrApi', ec2.InterfaceVpcEndpointAwsService.ECR],
  ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
  ['Sts', ec2.InterfaceVpcEndpointAwsService.STS],
];

export class ResponderStack extends Stack {
  readonly taskRole: iam.IRole;
  readonly service: ecs.FargateService;

  constructor(scope: Construct, id: string, props: ResponderStackProps) {
    super(scope, id, props);

    const imageTag = new CfnParameter(this, 'ImageTag', {
      type: 'String',
      default: 'latest',
      description: `Tag of the Responder image in the ECR repository "${props.ecrRepositoryName}"`,
    });

    // ---- network: private subnets for the service (egress through NAT: Slack's Socket Mode
    // WebSocket and any AWS API without an endpoint), isolated ones for Redis.
    const flowLogs = new logs.LogGroup(this, 'VpcFlowLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.RETAIN });
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      // One per AZ: an incident tool must keep working while an AZ is down.
      natGateways: 2,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL } },
    });
    const appSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    const taskSg = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc,
      description: 'Responder tasks: no inbound except from the intake ALB (variant); outbound HTTPS and Redis only',
      allowAllOutbound: false,
    });
    taskSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: AWS APIs, ECR, Slack (Socket Mode)');

    if (props.vpcEndpoints) {
      const endpointSg = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc,
        description: 'Interface VPC endpoints: HTTPS from the Responder tasks only',
        allowAllOutbound: false,
      });
      endpointSg.addIngressRule(taskSg, ec2.Port.tcp(443), 'HTTPS from the Responder tasks');
      for (const [name, service] of INTERFACE_ENDPOINTS) {
        if (name === 'Sqs' && props.intake !== 'sqs') continue;
        vpc.addInterfaceEndpoint(name, { service, subnets: appSubnets, securityGroups: [endpointSg], open: false, privateDnsEnabled: true });
      }
      // ECR keeps image layers in S3.
      vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [appSubnets] });
    }

    // ---- secrets: generated here (alphanumeric: they go into a URL and an HTTP header as is).
    const generated = (id: string, description: string, length: number) =>
      new secretsmanager.Secret(this, id, { description, generateSecretString: { passwordLength: length, excludePunctuation: true } });
    const ingestKey = generated('IngestApiKey', 'Responder INGEST_API_KEY: the x-api-key of POST /events/eventbridge', 48);
    const apiToken = generated('ApiToken', 'Responder API_TOKEN: bearer token of the HTTP API', 48);
    const redisAuth = generated('RedisAuthToken', 'AUTH token of the Responder ElastiCache replication group', 64);

    // ---- Redis: ElastiCache (Redis OSS), TLS, AUTH, encrypted at rest, Multi-AZ with failover.
    const redisSg = new ec2.SecurityGroup(this, 'RedisSecurityGroup', {
      vpc,
      description: 'Responder Redis: from the Responder tasks only',
      allowAllOutbound: false,
    });
    redisSg.addIngressRule(taskSg, ec2.Port.tcp(REDIS_PORT), 'Redis (TLS) from the Responder tasks');
    taskSg.addEgressRule(redisSg, ec2.Port.tcp(REDIS_PORT), 'Redis (TLS)');
    const redisSubnets = new elasticache.CfnSubnetGroup(this, 'RedisSubnets', {
      description: 'Responder Redis: isolated subnets',
      subnetIds: vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
    });
    // noeviction: BullMQ's jobs and the incident timeline must never be evicted under memory pressure.
    const redisParams = new elasticache.CfnParameterGroup(this, 'RedisParameters', {
      cacheParameterGroupFamily: 'redis7',
      description: 'Responder: noeviction',
      properties: { 'maxmemory-policy': 'noeviction' },
    });
    const redis = new elasticache.CfnReplicationGroup(this, 'Redis', {
      replicationGroupDescription: 'Responder store and BullMQ queues',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: 'cache.t4g.small',
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      // A dynamic reference ({{resolve:secretsmanager:…}}): the token never appears in the template.
      authToken: redisAuth.secretValue.unsafeUnwrap(),
      port: REDIS_PORT,
      cacheSubnetGroupName: redisSubnets.ref,
      cacheParameterGroupName: redisParams.ref,
      securityGroupIds: [redisSg.securityGroupId],
      snapshotRetentionLimit: 7,
      autoMinorVersionUpgrade: true,
    });

    // ---- intake
    const dlq = new sqs.Queue(this, 'AlarmsDeadLetter', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const rule = new events.Rule(this, 'AlarmStateChange', {
      description: 'CloudWatch alarm state changes to Responder',
      eventPattern: { source: ['aws.cloudwatch'], detailType: ['CloudWatch Alarm State Change'] },
    });
    let queue: sqs.Queue | undefined;
    if (props.intake === 'sqs') {
      queue = new sqs.Queue(this, 'Alarms', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        // Above the service's long poll (20 s) plus the time to store an event.
        visibilityTimeout: Duration.seconds(60),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
      });
      // SqsQueue adds the queue policy: events.amazonaws.com may send, with aws:SourceArn = this rule.
      rule.addTarget(new targets.SqsQueue(queue, { deadLetterQueue: dlq, retryAttempts: 185, maxEventAge: Duration.hours(24) }));
    }

    // ---- the task
    const taskPolicy = computeTaskPolicy({
      runbooksDir: props.runbooksDir,
      sqsIntake: queue !== undefined,
      region: props.policyRegion,
      account: props.policyAccount,
      defaultRegion: this.region,
    });
    for (const w of taskPolicy.warnings) Annotations.of(this).addWarningV2('responder:iam-policy', w);
    if (taskPolicy.runbookCount === 0) Annotations.of(this).addWarningV2('responder:no-runbooks', `no runbooks in ${props.runbooksDir}`);
    const exampleAccount = JSON.stringify(taskPolicy.catalog ?? {}).includes(':123456789012:');
    if (exampleAccount) {
      Annotations.of(this).addWarningV2(
        'responder:example-catalog',
        `the service catalog in ${props.runbooksDir} is the shipped example (account 123456789012): the task role is scoped to its resources; use your own catalog (-c runbooksDir=…)`,
      );
    }

    const taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Responder task role: exactly what `responder iam-policy` computes for the runbooks in the image',
    });
    const document = taskPolicy.policy.Statement.map((s) =>
      new iam.PolicyStatement({
        sid: s.Sid,
        effect: iam.Effect.ALLOW,
        actions: s.Action,
        // The builder scoped the SQS statement to a placeholder URL's ARN: the real queue's ARN is a token.
        resources: s.Sid === SQS_STATEMENT_SID && queue ? [queue.queueArn] : typeof s.Resource === 'string' ? [s.Resource] : s.Resource,
      }),
    );
    const runbookPolicy = new iam.Policy(this, 'RunbookPolicy', { document: new iam.PolicyDocument({ statements: document }) });
    runbookPolicy.attachToRole(taskRole);
    this.taskRole = taskRole;

    const logGroup = new logs.LogGroup(this, 'ServiceLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.RETAIN });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: 512,
      memoryLimitMiB: 1024,
      taskRole,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });

    const secrets: Record<string, ecs.Secret> = {
      INGEST_API_KEY: ecs.Secret.fromSecretsManager(ingestKey),
      API_TOKEN: ecs.Secret.fromSecretsManager(apiToken),
      REDIS_AUTH_TOKEN: ecs.Secret.fromSecretsManager(redisAuth),
    };
    const environment: Record<string, string> = {
      AWS_REGION: this.region,
      RESPONDER_MODE: props.mode,
      REDIS_ENDPOINT: `${redis.attrPrimaryEndPointAddress}:${redis.attrPrimaryEndPointPort}`,
      LOG_LEVEL: 'info',
    };
    if (queue) environment.SQS_QUEUE_URL = queue.queueUrl;
    if (props.slack) {
      const bot = secretsmanager.Secret.fromSecretCompleteArn(this, 'SlackBotToken', props.slack.botTokenSecretArn);
      const app = secretsmanager.Secret.fromSecretCompleteArn(this, 'SlackAppToken', props.slack.appTokenSecretArn);
      secrets.SLACK_BOT_TOKEN = ecs.Secret.fromSecretsManager(bot);
      secrets.SLACK_APP_TOKEN = ecs.Secret.fromSecretsManager(app);
      if (props.slack.channel) environment.SLACK_CHANNEL = props.slack.channel;
      if (props.slack.teamId) environment.SLACK_TEAM_ID = props.slack.teamId;
    }

    const repository = ecr.Repository.fromRepositoryName(this, 'Repository', props.ecrRepositoryName);
    taskDefinition.addContainer('responder', {
      image: ecs.ContainerImage.fromEcrRepository(repository, imageTag.valueAsString),
      // The service reads one REDIS_URL and ElastiCache's AUTH token is a separate secret: the shell
      // assembles the rediss:// URL at start (the token is alphanumeric, so it needs no escaping)
      // and drops the token's own variable before exec'ing the service as PID 1.
      entryPoint: ['sh', '-c'],
      command: [`REDIS_URL="rediss://:$REDIS_AUTH_TOKEN@$REDIS_ENDPOINT" exec env -u REDIS_AUTH_TOKEN -u REDIS_ENDPOINT ${SERVICE_COMMAND}`],
      environment,
      secrets,
      portMappings: [{ containerPort: CONTAINER_PORT }],
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'responder' }),
      readonlyRootFilesystem: true,
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${CONTAINER_PORT}/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        startPeriod: Duration.seconds(30),
        retries: 3,
      },
      // SHUTDOWN_GRACE_MS (25 s) lets steps in flight finish inside this.
      stopTimeout: Duration.seconds(30),
    });

    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: props.desiredCount,
      assignPublicIp: false,
      vpcSubnets: appSubnets,
      securityGroups: [taskSg],
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
    });

    if (props.intake === 'api-destination') this.apiDestinationIntake(vpc, ingestKey, rule, dlq);

    new CfnOutput(this, 'ClusterName', { value: cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: this.service.serviceName });
    new CfnOutput(this, 'LogGroupName', { value: logGroup.logGroupName, description: 'aws logs tail <this> --follow' });
    new CfnOutput(this, 'ApiTokenSecret', { value: apiToken.secretArn, description: 'API_TOKEN: aws secretsmanager get-secret-value --secret-id <this>' });
    new CfnOutput(this, 'IngestApiKeySecret', { value: ingestKey.secretArn, description: 'INGEST_API_KEY (the x-api-key of the intake)' });
    new CfnOutput(this, 'RedisAuthTokenSecret', { value: redisAuth.secretArn, description: 'AUTH token of the ElastiCache replication group' });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: dlq.queueUrl });
    if (queue) new CfnOutput(this, 'IntakeQueueUrl', { value: queue.queueUrl });

    this.acknowledge(redisAuth, ingestKey, apiToken, runbookPolicy, taskPolicy.policy, taskDefinition);
  }

  /** ALB (HTTPS, intake path only) + EventBridge connection (API key from Secrets Manager) + API destination. */
  private apiDestinationIntake(vpc: ec2.Vpc, ingestKey: secretsmanager.ISecret, rule: events.Rule, dlq: sqs.Queue) {
    const certificateArn = new CfnParameter(this, 'CertificateArn', {
      type: 'String',
      allowedPattern: '^arn:aws[a-z-]*:acm:[a-z0-9-]+:\\d{12}:certificate/.+$',
      description: 'ACM certificate (same region) for the intake domain name',
    });
    const domainName = new CfnParameter(this, 'IntakeDomainName', {
      type: 'String',
      allowedPattern: '^[a-z0-9.-]+$',
      description: 'DNS name of the intake (covered by the certificate; point it at the AlbDnsName output)',
    });

    const accessLogs = new s3.Bucket(this, 'AlbAccessLogs', {
      // ALB access logs support SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const albSg = new ec2.SecurityGroup(this, 'AlbSecurityGroup', {
      vpc,
      description: 'Responder intake ALB: HTTPS from EventBridge API destinations',
      allowAllOutbound: false,
    });
    albSg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from EventBridge (no fixed source range)');
    const alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: albSg,
      dropInvalidHeaderFields: true,
    });
    alb.logAccessLogs(accessLogs, 'intake-alb');
    const listener = alb.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromArn(certificateArn.valueAsString)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      // Everything but the intake path stays unreachable from outside (the API and Slack's HTTP mode included).
      defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'not found' }),
      open: false,
    });
    listener.addTargets('Intake', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/events/eventbridge']), elbv2.ListenerCondition.httpRequestMethods(['POST'])],
      port: CONTAINER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.service],
      // /ready: a task whose Redis is unreachable gets no alarms (EventBridge retries elsewhere).
      healthCheck: { path: '/ready', healthyHttpCodes: '200', interval: Duration.seconds(15) },
      deregistrationDelay: Duration.seconds(20),
    });

    const connection = new events.Connection(this, 'IntakeConnection', {
      description: 'Responder intake: x-api-key from the INGEST_API_KEY secret',
      authorization: events.Authorization.apiKey('x-api-key', ingestKey.secretValue),
    });
    const destination = new events.ApiDestination(this, 'IntakeDestination', {
      connection,
      endpoint: `https://${domainName.valueAsString}/events/eventbridge`,
      httpMethod: events.HttpMethod.POST,
      rateLimitPerSecond: 300,
    });
    rule.addTarget(new targets.ApiDestination(destination, { deadLetterQueue: dlq, retryAttempts: 185, maxEventAge: Duration.hours(24) }));

    new CfnOutput(this, 'AlbDnsName', { value: alb.loadBalancerDnsName, description: 'Point IntakeDomainName at this (CNAME or alias)' });

    suppress(albSg, [['AwsSolutions-EC23', 'EventBridge API destinations call from AWS-owned addresses with no published range; only POST /events/eventbridge is forwarded and it requires the API key']]);
    // Failed deliveries to the API destination land here; a DLQ has no DLQ of its own.
    suppress(dlq, [['AwsSolutions-SQS3', 'This queue is the dead-letter queue of the rule\'s API-destination target']]);
    suppress(accessLogs, [['AwsSolutions-S1', 'This bucket receives the ALB access logs; logging its own access would need another bucket for no benefit']]);
  }

  private acknowledge(
    redisAuth: secretsmanager.ISecret,
    ingestKey: secretsmanager.ISecret,
    apiToken: secretsmanager.ISecret,
    runbookPolicy: iam.Policy,
    policy: IamPolicy,
    taskDefinition: ecs.FargateTaskDefinition,
  ) {
    suppress(redisAuth, [['AwsSolutions-SMG4', 'ElastiCache AUTH rotation needs a coordinated ModifyReplicationGroup (ROTATE) and task restart; rotate by hand as docs/deploy.md describes']]);
    suppress(ingestKey, [['AwsSolutions-SMG4', 'The key is shared with the EventBridge connection (or whoever posts to the intake); rotating it is a coordinated change described in docs/deploy.md']]);
    suppress(apiToken, [['AwsSolutions-SMG4', 'A bearer token handed to operators and scripts; rotation is a coordinated change (new secret value, then a new deployment) described in docs/deploy.md']]);
    // One acknowledgment per wildcard resource the generated policy holds, each with why it is there.
    suppress(runbookPolicy, wildcardResources(policy).map((resource) => [`AwsSolutions-IAM5[Resource::${resource}]`, wildcardReason(resource)]));
    suppress(taskDefinition, [
      ['AwsSolutions-ECS2', 'Only non-secret settings are plain environment variables (region, mode, Redis endpoint, queue URL); every secret is an ECS secret from Secrets Manager'],
    ]);
    // The execution role's ECR/logs grants that CDK generates: GetAuthorizationToken takes no resource.
    suppress(taskDefinition.obtainExecutionRole(), [
      ['AwsSolutions-IAM5[Resource::*]', 'ecr:GetAuthorizationToken takes no resource-level permission (CDK-generated execution role policy)'],
    ]);
  }
}

/** The resources of the generated policy that end in or are a wildcard (cdk-nag reports each one). */
export function wildcardResources(policy: IamPolicy): string[] {
  const all = policy.Statement.flatMap((s) => (typeof s.Resource === 'string' ? [s.Resource] : s.Resource));
  return [...new Set(all.filter((r) => r.includes('*')))].sort();
}

function wildcardReason(resource: string): string {
  if (resource === '*') return 'iam-policy grants "*" only to calls that take no resource-level permission (Describe/List calls, cloudwatch:GetMetricData), per the Service Authorization Reference';
  if (resource.includes(':task/')) return 'ECS task ARNs carry a task id unknown in advance: scoped to the tasks of the catalog service\'s cluster';
  if (resource.includes(':log-group:')) return 'Log-group ARNs end in :* to cover their log streams: scoped to a log group the catalog names';
  return 'Generated by iam-policy from the runbooks and the catalog: a resource pattern scoped as far as the catalog allows';
}
