import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { uniqueName } from './moto';
import { withoutGoals } from './runbook-text';

/**
 * A small production in moto_server for the tests under fire (Redis restarts, AWS faults): ECS
 * services whose last deploy (`:42`) brought a new error line to their logs, so that the shipped
 * production-down runbook blames the deployment and proposes a rollback to `:41`. The catalog lets
 * the recent-deploy policy grant it (an alarm at once), or asks the approvers (an alarm an hour
 * after the deploy). The runbook is the shipped one, with 1-second settle and verify times.
 */
export interface ProdWorld {
  cluster: string;
  catalogFile: string;
  runbook: string;
  /** Task definition ARNs per service: [:41, :42]. */
  revisions: Record<string, string[]>;
  taskDefinitionOf(service: string): Promise<string>;
  close(): void;
}

export const APPROVER_SLACK_ID = 'U0ALICE01';
const ROOT = join(__dirname, '..', '..');

export async function seedProdWorld(motoUrl: string, services: string[]): Promise<ProdWorld> {
  const ecs = new ECSClient({ endpoint: motoUrl });
  const logs = new CloudWatchLogsClient({ endpoint: motoUrl });
  const cluster = uniqueName('fire');
  const revisions: Record<string, string[]> = {};
  const groups: Record<string, string> = {};
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  for (const service of services) {
    const family = uniqueName(service);
    const revs: string[] = [];
    for (const image of [`${service}:41`, `${service}:42`]) {
      const out = await ecs.send(
        new RegisterTaskDefinitionCommand({ family, requiresCompatibilities: ['EC2'], networkMode: 'bridge', containerDefinitions: [{ name: 'app', image, memory: 512, essential: true }] }),
      );
      revs.push(out.taskDefinition!.taskDefinitionArn!);
    }
    await ecs.send(new CreateServiceCommand({ cluster, serviceName: service, taskDefinition: revs[0], desiredCount: 2 }));
    await ecs.send(new UpdateServiceCommand({ cluster, service, taskDefinition: revs[1] }));
    revisions[service] = revs;
    const group = uniqueName(`/ecs/${service}`);
    groups[service] = group;
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'app/app/1' }));
    const now = Date.now();
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 'app/app/1',
        logEvents: [
          { timestamp: now - 20 * 60_000, message: 'INFO GET /health 200 2ms' },
          { timestamp: now, message: "ERROR TypeError: Cannot read properties of undefined (reading 'total') at CartService.checkout" },
        ],
      }),
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'prod-world-'));
  const catalogFile = join(dir, 'catalog.yaml');
  writeFileSync(
    catalogFile,
    `approverGroups:
  oncall: { users: [alice@example.com], slackUsers: [${APPROVER_SLACK_ID}] }
services:
${services
  .map(
    (s) => `  ${s}:
    alarms: { patterns: ["${s}-*"] }
    ecs: { cluster: ${cluster}, service: ${s} }
    logGroups: ["${groups[s]}"]
    approvers: [oncall]
    slack: { channel: "#inc-${s}" }
    autonomy: { deploy.rollback: auto }
    limits: { autoRollbackWindowMinutes: 30, cooldownMinutes: 0 }`,
  )
  .join('\n')}
`,
  );
  const runbook = withoutGoals(readFileSync(join(ROOT, 'runbooks', 'production-down.yaml'), 'utf8'))
    .replace('settle_seconds: { default: 120,', 'settle_seconds: { default: 1,')
    .replace('verify_seconds: { default: 300,', 'verify_seconds: { default: 1,');
  return {
    cluster,
    catalogFile,
    runbook,
    revisions,
    taskDefinitionOf: async (service) => (await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }))).services![0].taskDefinition!,
    close: () => {
      ecs.destroy();
      logs.destroy();
    },
  };
}

/** The steps of the shipped production-down runbook that call AWS when the service has no ALB or Aurora. */
export const PROD_DOWN_AWS_STEPS = ['ecs', 'metrics', 'logs', 'deploy', 'changes', 'rollback', 'verify'];

/** How many times each step started, from an incident's timeline (`step.started` entries). */
export function startsPerStep(timeline: { type: string; data: Record<string, unknown> }[]): Record<string, number> {
  const starts: Record<string, number> = {};
  for (const e of timeline) if (e.type === 'step.started') starts[String(e.data.step)] = (starts[String(e.data.step)] ?? 0) + 1;
  return starts;
}
