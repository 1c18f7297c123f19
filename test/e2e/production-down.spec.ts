import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { INestApplication } from '@nestjs/common';
import { startApp } from '../support/app';
import { client } from '../support/engine';
import { uniqueName } from '../support/moto';
import { testRedis } from '../support/redis';

/**
 * The shipped production-down runbook end to end against moto_server: an alarm in, diagnostics
 * out, an ECS rolling rollback performed (the service is on the previous task definition after),
 * granted by the recent-deploy policy when the deployment is recent, and approved by a person
 * through the API when it is not.
 */
const MOTO_URL = process.env.MOTO_URL!;
const ROOT = join(__dirname, '..', '..');
const { prefix, cleanup } = testRedis('production-down');
const ecs = new ECSClient({ endpoint: MOTO_URL });
const clusterName = uniqueName('prod');
let app: INestApplication;
let api: ReturnType<typeof client>;
const revisions: Record<string, string[]> = {};

async function seedService(service: string): Promise<void> {
  const family = uniqueName(service);
  const revs: string[] = [];
  for (const image of [`${service}:41`, `${service}:42`]) {
    const out = await ecs.send(
      new RegisterTaskDefinitionCommand({ family, requiresCompatibilities: ['EC2'], networkMode: 'bridge', containerDefinitions: [{ name: 'app', image, memory: 512, essential: true }] }),
    );
    revs.push(out.taskDefinition!.taskDefinitionArn!);
  }
  await ecs.send(new CreateServiceCommand({ cluster: clusterName, serviceName: service, taskDefinition: revs[0], desiredCount: 2 }));
  await ecs.send(new UpdateServiceCommand({ cluster: clusterName, service, taskDefinition: revs[1] })); // the deploy of :42
  revisions[service] = revs;
}

async function taskDefinitionOf(service: string): Promise<string> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster: clusterName, services: [service] }));
  return out.services![0].taskDefinition!;
}

beforeAll(async () => {
  await ecs.send(new CreateClusterCommand({ clusterName }));
  await seedService('web');
  await seedService('api');
  const dir = mkdtempSync(join(tmpdir(), 'production-down-'));
  const catalogFile = join(dir, 'catalog.yaml');
  writeFileSync(
    catalogFile,
    `
approverGroups:
  oncall: { users: [alice@example.com] }
services:
  web:
    alarms: { patterns: ["web-*"] }
    ecs: { cluster: ${clusterName}, service: web }
    approvers: [oncall]
    limits: { autoRollbackWindowMinutes: 30, cooldownMinutes: 0 }
  api:
    alarms: { patterns: ["api-*"] }
    ecs: { cluster: ${clusterName}, service: api }
    approvers: [oncall]
    limits: { autoRollbackWindowMinutes: 30, cooldownMinutes: 0 }
`,
  );
  // The shipped runbook, with short settle and verify times for the test.
  const runbook = readFileSync(join(ROOT, 'runbooks', 'production-down.yaml'), 'utf8')
    .replace('settle_seconds: { default: 120,', 'settle_seconds: { default: 1,')
    .replace('verify_seconds: { default: 300,', 'verify_seconds: { default: 1,');
  process.env.AWS_ENDPOINT_URL = MOTO_URL;
  const { awsActions } = await import('@responder/aws/actions');
  ({ app } = await startApp(prefix, {}, { catalogFile, runbooks: [runbook], actions: awsActions({ region: 'us-east-1' }) }));
  api = client(app);
});

afterAll(async () => {
  await app?.close();
  delete process.env.AWS_ENDPOINT_URL;
  ecs.destroy();
  await cleanup();
});

describe('production-down against moto_server', () => {
  it('rolls back a deployment made just before the onset without waiting for people (recent-deploy policy)', async () => {
    const incidentId = await api.alarm('web-5xx');
    const run = await api.waitRun(incidentId, ['succeeded', 'failed'], 60_000);
    const step = (id: string) => run.steps.find((s) => s.id === id)!;
    expect(step('ecs')).toMatchObject({ status: 'succeeded', output: expect.objectContaining({ desired: 2 }) });
    expect(step('metrics').status).toBe('succeeded');
    expect(step('deploy')).toMatchObject({ status: 'succeeded', output: expect.objectContaining({ controller: 'ECS', correlated: true }) });
    expect(step('alb')).toMatchObject({ status: 'skipped' }); // no target groups in this catalog
    expect(step('rollback')).toMatchObject({ status: 'succeeded', approval: 'policy', approvedBy: 'policy:recent-deploy' });
    expect(step('scale-up')).toMatchObject({ status: 'skipped' });
    expect(step('settle').status).toBe('succeeded');
    expect(step('verify')).toMatchObject({ status: 'succeeded', output: expect.objectContaining({ recovered: false }) }); // moto never evaluates alarms
    expect(await taskDefinitionOf('web')).toBe(revisions.web[0]);
    const granted = (await api.timeline(incidentId)).find((e) => e.type === 'approval.granted');
    expect(granted?.data).toMatchObject({ by: 'policy:recent-deploy', step: 'rollback' });
  });

  it('asks people when the deployment is older than the window, and rolls back once approved', async () => {
    // The alarm's own onset is an hour after the deploy: outside the 30-minute window, inside the 2-hour correlation.
    const incidentId = await api.alarm('api-5xx', 'ALARM', new Date(Date.now() + 60 * 60_000));
    const waiting = await api.waitStep(incidentId, 'rollback', ['awaiting_approval'], 60_000);
    expect(waiting.plan).toContain(`roll back ${clusterName}/api`);
    expect(await taskDefinitionOf('api')).toBe(revisions.api[1]);
    await api.post(`/incidents/${incidentId}/steps/rollback/approve`, { approver: 'alice@example.com', paramsHash: waiting.paramsHash }).expect(200);
    const done = await api.waitStep(incidentId, 'rollback', ['succeeded'], 60_000);
    expect(done).toMatchObject({ approval: 'granted', approvals: [expect.objectContaining({ by: 'alice@example.com' })] });
    expect(await taskDefinitionOf('api')).toBe(revisions.api[0]);
    await api.waitRun(incidentId, ['succeeded', 'failed'], 60_000);
  });
});
