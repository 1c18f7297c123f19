import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { CreateDBClusterCommand, CreateDBInstanceCommand, RDSClient, StopDBInstanceCommand } from '@aws-sdk/client-rds';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { startApp } from '../support/app';
import { type CloudTrailStub, startCloudTrailStub } from '../support/cloudtrail-stub';
import { client, personToken } from '../support/engine';
import { uniqueName } from '../support/moto';
import { testRedis } from '../support/redis';
import { blockActionsBody, signSlackRequest } from '../support/slack-sign';
import { type SlackStub, type StubMessage, startSlackStub } from '../support/slack-stub';
import { withoutGoals } from '../support/runbook-text';

/**
 * The shipped production-down runbook end to end against moto_server: an alarm in, diagnostics
 * out, an ECS rolling rollback performed (the service is on the previous task definition after),
 * granted by the recent-deploy policy when the deployment is recent and the verdict blames it,
 * and approved by a person in Slack when it is not. A decoy deployment (made while the Aurora
 * writer was already down) is never rolled back. Slack (a local Web API stand-in) shows each
 * incident as it unfolds.
 */
const SIGNING_SECRET = 'test-signing-secret-0123456789';
const MOTO_URL = process.env.MOTO_URL!;
const ROOT = join(__dirname, '..', '..');
const { redis, prefix, cleanup } = testRedis('production-down');
const ecs = new ECSClient({ endpoint: MOTO_URL });
const logs = new CloudWatchLogsClient({ endpoint: MOTO_URL });
const rds = new RDSClient({ endpoint: MOTO_URL });
const clusterName = uniqueName('prod');
const webLogGroup = uniqueName('/ecs/web');
const shopLogGroup = uniqueName('/ecs/shop');
const dryLogGroup = uniqueName('/ecs/dry');
const shopDb = uniqueName('shop-db');
let app: INestApplication;
let api: ReturnType<typeof client>;
let slack: SlackStub;
let cloudtrail: CloudTrailStub;
const revisions: Record<string, string[]> = {};
let catalogFile: string;
let runbook: string;

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

/** A log group with these lines, `[minutes from now, message]`. */
async function seedLogs(group: string, lines: Array<[number, string]>): Promise<void> {
  await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'app/app/1' }));
  const now = Date.now();
  const logEvents = lines.map(([m, message]) => ({ timestamp: now + m * 60_000, message })).sort((a, b) => a.timestamp - b.timestamp);
  await logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: 'app/app/1', logEvents }));
}

async function taskDefinitionOf(service: string): Promise<string> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster: clusterName, services: [service] }));
  return out.services![0].taskDefinition!;
}

beforeAll(async () => {
  await ecs.send(new CreateClusterCommand({ clusterName }));
  await seedService('web');
  await seedService('api');
  await seedService('cart');
  // web: the deploy of :42 brought a new error (noise: health-check INFO lines from before it).
  await seedLogs(webLogGroup, [
    [-20, 'INFO GET /health 200 2ms'],
    [-10, 'INFO GET /health 200 3ms'],
    [0, "ERROR TypeError: Cannot read properties of undefined (reading 'total') at CartService.checkout"],
  ]);
  // shop, the decoy: the Aurora writer stopped and the app lost its database 8 minutes before the deploy of :42 landed.
  await rds.send(new CreateDBClusterCommand({ DBClusterIdentifier: shopDb, Engine: 'aurora-postgresql', MasterUsername: 'app', MasterUserPassword: 'not-a-secret-1' }));
  for (const [n, tier] of [[1, 0], [2, 1]] as const) {
    await rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: `${shopDb}-${n}`, DBClusterIdentifier: shopDb, Engine: 'aurora-postgresql', DBInstanceClass: 'db.r6g.large', PromotionTier: tier }));
  }
  await rds.send(new StopDBInstanceCommand({ DBInstanceIdentifier: `${shopDb}-1` }));
  await seedLogs(shopLogGroup, [
    [-20, 'INFO GET /health 200 2ms'],
    [-8, `ERROR could not connect to database ${shopDb}.cluster-x.us-east-1.rds.amazonaws.com:5432: connection refused`],
    [-4, `ERROR could not connect to database ${shopDb}.cluster-x.us-east-1.rds.amazonaws.com:5432: connection refused`],
  ]);
  await seedService('shop');
  await seedService('full');
  await seedService('dry');
  // dry: as web, the deploy brought a new error, so the verdict blames it and the policy holds.
  await seedLogs(dryLogGroup, [
    [-20, 'INFO GET /health 200 2ms'],
    [0, "ERROR TypeError: Cannot read properties of undefined (reading 'total') at CartService.checkout"],
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'production-down-'));
  catalogFile = join(dir, 'catalog.yaml');
  writeFileSync(
    catalogFile,
    `
approverGroups:
  oncall: { users: [alice@example.com], slackUsers: [U0ALICE01] }
services:
  web:
    alarms: { patterns: ["web-*"] }
    ecs: { cluster: ${clusterName}, service: web }
    logGroups: ["${webLogGroup}"]
    approvers: [oncall]
    slack: { channel: "#inc-web" }
    autonomy: { deploy.rollback: auto }
    limits: { autoRollbackWindowMinutes: 30, cooldownMinutes: 0 }
  api:
    alarms: { patterns: ["api-*"] }
    ecs: { cluster: ${clusterName}, service: api }
    approvers: [oncall]
    slack: { channel: "#inc-api" }
    autonomy: { deploy.rollback: auto }
    limits: { autoRollbackWindowMinutes: 30, cooldownMinutes: 0 }
  cart:
    alarms: { patterns: ["cart-*"] }
    ecs: { cluster: ${clusterName}, service: cart }
    approvers: [oncall]
    slack: { channel: "#inc-cart" }
    autonomy: { deploy.rollback: auto }
    limits: { autoRollbackWindowMinutes: 30, cooldownMinutes: 0 }
  dry:
    alarms: { patterns: ["dry-*"] }
    ecs: { cluster: ${clusterName}, service: dry }
    logGroups: ["${dryLogGroup}"]
    approvers: [oncall]
    slack: { channel: "#inc-dry" }
    autonomy: { deploy.rollback: auto }
    limits: { autoRollbackWindowMinutes: 30, cooldownMinutes: 0 }
  full:
    alarms: { patterns: ["full-*"] }
    ecs: { cluster: ${clusterName}, service: full }
    approvers: [oncall]
    slack: { channel: "#inc-full" }
    autonomy: { deploy.rollback: auto }
    limits: { maxTasks: 2, autoRollbackWindowMinutes: 30, cooldownMinutes: 0 }
  shop:
    alarms: { patterns: ["shop-*"] }
    ecs: { cluster: ${clusterName}, service: shop }
    logGroups: ["${shopLogGroup}"]
    aurora: { cluster: ${shopDb} }
    approvers: [oncall]
    slack: { channel: "#inc-shop" }
    # the runbook's policy may roll back unattended: the verdict alone must keep the decoy from it
    autonomy: { deploy.rollback: auto }
    limits: { autoRollbackWindowMinutes: 30, cooldownMinutes: 0 }
`,
  );
  // The shipped runbook, with short settle and verify times for the test.
  // Its mitigations' goals off: moto runs no task and has not these alarms (goals: goal.spec.ts).
  runbook = withoutGoals(readFileSync(join(ROOT, 'runbooks', 'production-down.yaml'), 'utf8'))
    .replace('settle_seconds: { default: 120,', 'settle_seconds: { default: 1,')
    .replace('verify_seconds: { default: 300,', 'verify_seconds: { default: 1,');
  process.env.AWS_ENDPOINT_URL = MOTO_URL;
  // moto has no CloudTrail LookupEvents: the changes step reads the stand-in (empty: no changes).
  cloudtrail = await startCloudTrailStub();
  process.env.AWS_ENDPOINT_URL_CLOUDTRAIL = cloudtrail.url;
  const { awsActions } = await import('@responder/aws/actions');
  slack = await startSlackStub();
  const env = { SLACK_BOT_TOKEN: 'xoxb-test-0000-token', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl };
  ({ app } = await startApp(prefix, env, { catalogFile, runbooks: [runbook], actions: awsActions({ region: 'us-east-1' }) }));
  api = client(app);
});

afterAll(async () => {
  await app?.close();
  await slack?.close();
  await cloudtrail?.close();
  delete process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_ENDPOINT_URL_CLOUDTRAIL;
  ecs.destroy();
  logs.destroy();
  rds.destroy();
  await cleanup();
});

const text = (m: StubMessage) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;
const buttons = (m: StubMessage) =>
  (m.blocks ?? []).flatMap((b) => ((b as { type: string }).type === 'actions' ? (b as { elements: Array<{ action_id: string; value: string }> }).elements : []));

describe('production-down against moto_server', () => {
  it('rolls back a deployment made just before the onset without waiting for people (recent-deploy policy)', async () => {
    const incidentId = await api.alarm('web-5xx');
    const run = await api.waitRun(incidentId, ['succeeded', 'failed'], 60_000);
    const step = (id: string) => run.steps.find((s) => s.id === id)!;
    expect(step('ecs')).toMatchObject({ status: 'succeeded', output: expect.objectContaining({ desired: 2 }) });
    expect(step('metrics').status).toBe('succeeded');
    expect(step('changes')).toMatchObject({ status: 'succeeded', output: expect.objectContaining({ changes: [] }) });
    expect(step('deploy')).toMatchObject({ status: 'succeeded', output: expect.objectContaining({ controller: 'ECS', correlated: true }) });
    expect(step('alb')).toMatchObject({ status: 'skipped' }); // no target groups in this catalog
    expect(step('diagnose')).toMatchObject({ status: 'succeeded', output: expect.objectContaining({ cause: 'deployment' }) });
    expect(step('diagnose').output!.confidence).toBeGreaterThanOrEqual(0.8);
    expect(step('rollback')).toMatchObject({ status: 'succeeded', approval: 'policy', approvedBy: 'policy:recent-deploy' });
    expect(step('scale-up')).toMatchObject({ status: 'skipped' });
    expect(step('settle').status).toBe('succeeded');
    expect(step('verify')).toMatchObject({ status: 'succeeded', output: expect.objectContaining({ recovered: false }) }); // moto never evaluates alarms
    expect(await taskDefinitionOf('web')).toBe(revisions.web[0]);
    const granted = (await api.timeline(incidentId)).find((e) => e.type === 'approval.granted');
    expect(granted?.data).toMatchObject({ by: 'policy:recent-deploy', step: 'rollback' });
    // The verdict in the API and the RCA, with the new error as evidence.
    const { verdict } = (await api.get(`/incidents/${incidentId}`).expect(200)).body as { verdict: { cause: string; hypotheses: Array<{ evidence: Array<{ step: string; text: string }> }> } };
    expect(verdict.cause).toBe('deployment');
    // Diagnostics skipped for lack of configuration reach the verdict as gaps, with the engine's reason.
    expect((verdict as unknown as { gaps: Array<{ step: string; reason: string }> }).gaps).toEqual(
      expect.arrayContaining([{ step: 'alb', reason: expect.stringMatching(/^target health not checked: not configured for this service \(when was false: /) }]),
    );
    expect(verdict.hypotheses[0].evidence.map((e) => e.step)).toEqual(expect.arrayContaining(['deploy', 'logs']));
    expect(((await api.get(`/incidents/${incidentId}/rca.json`).expect(200)).body as { verdict: { cause: string } }).verdict.cause).toBe('deployment');
    expect((await api.get(`/incidents/${incidentId}/rca.md`).expect(200)).text).toContain('- **Cause**: deployment (confidence');
    // Slack: one message, the findings of the real diagnostics and the rollback in its thread.
    const main = await slack.waitFor(() => slack.messages('#inc-web').find((m) => m.threadTs === undefined));
    const thread = await slack.waitFor(() => {
      const replies = slack.replies('#inc-web', main.ts);
      return replies.some((m) => /recent-deploy/.test(text(m))) && replies.some((m) => /deploy\.recent/.test(text(m))) ? replies : undefined;
    }, 15_000);
    expect(thread.find((m) => /deploy\.recent/.test(text(m)))!.text).toBeTruthy();
    const rollback = thread.find((m) => /recent-deploy/.test(text(m)))!;
    expect(buttons(rollback)).toEqual([]);
    expect(text(rollback)).toContain(`roll back ${clusterName}/web`);
    // The main message leads with the verdict (its first block after the header).
    const led = await slack.waitFor(() => slack.messages('#inc-web').find((m) => m.threadTs === undefined && /Verdict: deployment/.test(JSON.stringify(m.blocks?.[1] ?? {}))), 15_000);
    expect(JSON.stringify(led.blocks![1])).toMatch(/confidence 0\.\d\d/);
  });

  it('asks people when the deployment is older than the window, and rolls back once approved', async () => {
    // The alarm's own onset is an hour after the deploy: outside the 30-minute window, inside the 2-hour correlation.
    const incidentId = await api.alarm('api-5xx', 'ALARM', new Date(Date.now() + 60 * 60_000));
    const waiting = await api.waitStep(incidentId, 'rollback', ['awaiting_approval'], 60_000);
    expect(waiting.plan).toContain(`roll back ${clusterName}/api`);
    expect(await taskDefinitionOf('api')).toBe(revisions.api[1]);
    // Approved from Slack: the button carries the plan's hash, the click is signed as Slack signs it.
    const asked = await slack.waitFor(() => slack.messages('#inc-api').find((m) => buttons(m).length > 0), 15_000);
    expect(text(asked)).toContain(`roll back ${clusterName}/api`);
    const approve = buttons(asked).find((b) => b.action_id === 'responder_approve')!;
    expect(JSON.parse(approve.value)).toMatchObject({ incidentId, step: 'rollback', paramsHash: waiting.paramsHash });
    const body = blockActionsBody({ userId: 'U0ALICE01', actionId: approve.action_id, value: approve.value, channelId: asked.channel, messageTs: asked.ts });
    await request(app.getHttpServer()).post('/slack/events').set(signSlackRequest(SIGNING_SECRET, body)).send(body).expect(200);
    const done = await api.waitStep(incidentId, 'rollback', ['succeeded'], 60_000);
    expect(done).toMatchObject({ approval: 'granted', approvals: [expect.objectContaining({ by: 'U0ALICE01' })] });
    await slack.waitFor(() => slack.messages('#inc-api').find((m) => m.ts === asked.ts && buttons(m).length === 0 && /U0ALICE01/.test(text(m))));
    expect(await taskDefinitionOf('api')).toBe(revisions.api[0]);
    await api.waitRun(incidentId, ['succeeded', 'failed'], 60_000);
  });

  it('after a rollback is rejected in Slack, scales up by exactly the approved count when tasks are missing', async () => {
    // Onset an hour after the deploy: the rollback waits for people (outside the policy's window); moto runs no task, so 2 are missing.
    const incidentId = await api.alarm('cart-5xx', 'ALARM', new Date(Date.now() + 60 * 60_000));
    const clickIn = async (step: string, actionId: 'responder_approve' | 'responder_reject') => {
      const asked = await slack.waitFor(() => slack.messages('#inc-cart').find((m) => buttons(m).some((b) => (JSON.parse(b.value) as { step: string }).step === step)), 15_000);
      const button = buttons(asked).find((b) => b.action_id === actionId)!;
      const body = blockActionsBody({ userId: 'U0ALICE01', actionId, value: button.value, channelId: asked.channel, messageTs: asked.ts });
      await request(app.getHttpServer()).post('/slack/events').set(signSlackRequest(SIGNING_SECRET, body)).send(body).expect(200);
      return asked;
    };
    await api.waitStep(incidentId, 'rollback', ['awaiting_approval'], 60_000);
    await clickIn('rollback', 'responder_reject');
    await api.waitStep(incidentId, 'rollback', ['rejected']);
    const waiting = await api.waitStep(incidentId, 'scale-up', ['awaiting_approval'], 60_000);
    expect(waiting.plan).toBe(`UpdateService ${clusterName}/cart desiredCount 2 → 4`);
    const asked = await clickIn('scale-up', 'responder_approve');
    expect(text(asked)).toContain('desiredCount 2 → 4');
    await api.waitStep(incidentId, 'scale-up', ['succeeded'], 60_000);
    const out = await ecs.send(new DescribeServicesCommand({ cluster: clusterName, services: ['cart'] }));
    expect(out.services![0].desiredCount).toBe(4);
    expect(await taskDefinitionOf('cart')).toBe(revisions.cart[1]); // not rolled back
    await api.waitRun(incidentId, ['succeeded', 'failed'], 60_000);
  });

  it('does not ask anyone to approve a scale-up that changes nothing (already at the catalog maxTasks): skipped with the reason', async () => {
    const incidentId = await api.alarm('full-5xx', 'ALARM', new Date(Date.now() + 60 * 60_000));
    await api.waitStep(incidentId, 'rollback', ['awaiting_approval'], 60_000);
    const alice = await personToken(redis, prefix, 'alice@example.com'); // rejecting needs a person's credential
    await api.postAs(alice, `/incidents/${incidentId}/steps/rollback/reject`, { reason: 'not the deploy' }).expect(200);
    const skipped = await api.waitStep(incidentId, 'scale-up', ['skipped'], 60_000);
    expect(skipped.reason).toBe(`nothing to do: no UpdateService on ${clusterName}/full: desiredCount 2 is already ≥ the target 2 (capped at max_tasks 2)`);
    const requested = (await api.timeline(incidentId)).filter((e) => e.type === 'approval.requested').map((e) => e.data.step);
    expect(requested).toEqual(['rollback']);
    const out = await ecs.send(new DescribeServicesCommand({ cluster: clusterName, services: ['full'] }));
    expect(out.services![0].desiredCount).toBe(2);
    await api.waitRun(incidentId, ['succeeded', 'failed'], 60_000);
  });

  it('dry-run: the rollback is a dry-run step, what needs a real change is skipped saying so, and the mode is shown in the API and Slack', async () => {
    const { app: dryApp } = await startApp(`${prefix}-dry`, { RESPONDER_MODE: 'dry-run', SLACK_BOT_TOKEN: 'xoxb-test-0000-token', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl }, {
      catalogFile,
      runbooks: [runbook],
      actions: (await import('@responder/aws/actions')).awsActions({ region: 'us-east-1' }),
    });
    try {
      const dry = client(dryApp);
      const incidentId = await dry.alarm('dry-5xx');
      const run = await dry.waitRun(incidentId, ['succeeded', 'failed'], 60_000);
      const step = (id: string) => run.steps.find((s) => s.id === id)!;
      expect(step('rollback')).toMatchObject({ status: 'dry-run', approval: 'policy', output: expect.objectContaining({ dryRun: true }) });
      const notDone = /^dry run: rollback was not really done \(nothing changed in production\), so this step has nothing to follow; /;
      expect(step('scale-up')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(notDone) });
      expect(step('settle')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(notDone) });
      expect(step('verify')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(notDone) });
      expect(run.status).toBe('succeeded');
      expect(await taskDefinitionOf('dry')).toBe(revisions.dry[1]); // not rolled back
      const incident = (await dry.get(`/incidents/${incidentId}`).expect(200)).body as { mode: string };
      expect(incident.mode).toBe('dry-run');
      expect((await dry.timeline(incidentId)).some((e) => e.type === 'step.dry-run' && e.data.step === 'rollback')).toBe(true);
      const main = await slack.waitFor(() => slack.messages('#inc-dry').find((m) => m.threadTs === undefined && /rollback/.test(text(m)) && /dry run: not called/.test(text(m))), 15_000);
      expect(text(main)).toContain('Dry run: nothing is changed.');
      expect(text(main)).not.toMatch(/`rollback` deploy\.rollback: \*succeeded\*/);
    } finally {
      await dryApp.close();
    }
  });

  it('never rolls back the decoy: a deployment minutes before the onset while the Aurora writer was already down', async () => {
    const incidentId = await api.alarm('shop-5xx');
    const diagnosed = await api.waitStep(incidentId, 'diagnose', ['succeeded'], 60_000);
    expect(diagnosed.output).toMatchObject({ cause: 'database' });
    const deployment = (diagnosed.output!.hypotheses as Array<{ cause: string; confidence: number; against: unknown[] }>).find((h) => h.cause === 'deployment');
    expect(deployment?.confidence).toBeLessThan(0.3);
    expect(deployment?.against.length).toBeGreaterThan(0);
    // The rollback is not even proposed; the failover is, and waits for two people.
    const rollback = await api.waitStep(incidentId, 'rollback', ['skipped'], 60_000);
    expect(rollback.reason).toMatch(/when was false/);
    await api.waitStep(incidentId, 'failover', ['awaiting_approval'], 60_000);
    expect((await api.timeline(incidentId)).some((e) => e.type === 'approval.granted')).toBe(false);
    expect(await taskDefinitionOf('shop')).toBe(revisions.shop[1]);
    const rca = (await api.get(`/incidents/${incidentId}/rca.md`).expect(200)).text;
    expect(rca).toContain('- **Cause**: database');
    expect(rca).toMatch(/Ruled out:\n\n- deployment \(0\.\d\d\): /);
    const led = await slack.waitFor(() => slack.messages('#inc-shop').find((m) => m.threadTs === undefined && /Verdict: database/.test(JSON.stringify(m.blocks?.[1] ?? {}))), 15_000);
    expect(JSON.stringify(led.blocks![1])).toContain('*Ruled out*: deployment');
  });
});
