import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand, type StateValue } from '@aws-sdk/client-cloudwatch';
import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { INestApplication } from '@nestjs/common';
import { startApp } from '../support/app';
import { client, eventually } from '../support/engine';
import { uniqueName } from '../support/moto';
import { testRedis } from '../support/redis';
import { type SlackStub, type StubMessage, startSlackStub } from '../support/slack-stub';

/**
 * Staged mitigation against a goal (issue 17 item 6), on the real service with moto_server and the
 * Slack stand-in: a rollback's goal (the service on the task definition it went to, the incident's
 * alarms OK) is verified as part of its step, without a worker between checks. Met: the step
 * succeeds with goal met. Missed (the alarm stays ALARM): the step fails with goal missed, the
 * timeline, Slack (a loud message re-pinging the approvers) and the RCA say so, and the incident is
 * not reported mitigated. A rollback that "succeeded" in two incidents within a day, each time
 * followed by the alarm again, is not run a third time without a person.
 */
const MOTO_URL = process.env.MOTO_URL!;
const SIGNING_SECRET = 'test-signing-secret-0123456789';
const { prefix, cleanup } = testRedis('goal');
const ecs = new ECSClient({ endpoint: MOTO_URL });
const cw = new CloudWatchClient({ endpoint: MOTO_URL });
const cluster = uniqueName('goal');
const revisions: Record<string, string[]> = {};
let app: INestApplication;
let api: ReturnType<typeof client>;
let slack: SlackStub;

async function seedService(service: string): Promise<void> {
  const family = uniqueName(service);
  const revs: string[] = [];
  for (const image of [`${service}:1`, `${service}:2`]) {
    const out = await ecs.send(
      new RegisterTaskDefinitionCommand({ family, requiresCompatibilities: ['EC2'], networkMode: 'bridge', containerDefinitions: [{ name: 'app', image, memory: 512, essential: true }] }),
    );
    revs.push(out.taskDefinition!.taskDefinitionArn!);
  }
  await ecs.send(new CreateServiceCommand({ cluster, serviceName: service, taskDefinition: revs[0], desiredCount: 1 }));
  revisions[service] = revs;
  await deploy(service);
}

/** The deploy of :2 (again), as a team would redeploy after a rollback. */
async function deploy(service: string): Promise<void> {
  await ecs.send(new UpdateServiceCommand({ cluster, service, taskDefinition: revisions[service][1] }));
}

async function taskDefinitionOf(service: string): Promise<string> {
  return (await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }))).services![0].taskDefinition!;
}

async function alarm(name: string, state: StateValue): Promise<void> {
  await cw.send(
    new PutMetricAlarmCommand({ AlarmName: name, Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_ELB_5XX_Count', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 10, ComparisonOperator: 'GreaterThanThreshold' }),
  );
  await cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: `test: ${state}` }));
}

function rollbackRunbook(service: string, goal: string): string {
  return `
name: roll-${service}
triggers: { services: [${service}] }
steps:
  - id: rollback
    action: deploy.rollback
    with:
      cluster: "\${{ service.ecs.cluster }}"
      service: "\${{ service.ecs.service }}"
      from_task_definition: "${revisions[service][1]}"
      to_task_definition: "${revisions[service][0]}"
    approval: none
    goal: ${goal}
`;
}

beforeAll(async () => {
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await seedService('gmet');
  await seedService('gmiss');
  const dir = mkdtempSync(join(tmpdir(), 'goal-'));
  const catalogFile = join(dir, 'catalog.yaml');
  const service = (name: string) => `
  ${name}:
    alarms: { patterns: ["${name}-*"] }
    ecs: { cluster: ${cluster}, service: ${name} }
    approvers: [oncall]
    slack: { channel: "#inc-${name}", stakeholderChannel: "#status-${name}" }
    autonomy: { deploy.rollback: auto }
    limits: { cooldownMinutes: 0 }`;
  writeFileSync(catalogFile, `approverGroups:\n  oncall: { users: [alice@example.com], slackUsers: [U0ALICE01] }\nservices:${service('gmet')}${service('gmiss')}\n`);
  process.env.AWS_ENDPOINT_URL = MOTO_URL;
  const { awsActions } = await import('@responder/aws/actions');
  slack = await startSlackStub();
  const env = { SLACK_BOT_TOKEN: 'xoxb-test-0000-token', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl };
  const runbooks = [
    rollbackRunbook('gmet', '{ within: 60s, poll: 0.2, checks: [service-on-target, alarms-ok] }'),
    rollbackRunbook('gmiss', '{ within: 2s, poll: 0.2, checks: [service-on-target, alarms-ok] }'),
  ];
  ({ app } = await startApp(prefix, env, { catalogFile, runbooks, actions: awsActions({ region: 'us-east-1' }) }));
  api = client(app);
});

afterAll(async () => {
  await app?.close();
  await slack?.close();
  delete process.env.AWS_ENDPOINT_URL;
  ecs.destroy();
  cw.destroy();
  await cleanup();
});

const text = (m: StubMessage) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;

describe('mitigation goals (moto_server, Slack stand-in)', () => {
  /** One incident of gmet whose rollback meets its goal once the alarm turns OK; resolved after. */
  async function rollbackThatHolds(): Promise<string> {
    const name = uniqueName('gmet-5xx');
    await alarm(name, 'ALARM');
    const incidentId = await api.alarm(name);
    // The call is made, then the goal is verified as part of the step: still running, alarm still ALARM.
    await api.waitStep(incidentId, 'rollback', ['running'], 30_000);
    await eventually('the rollback to be made', async () => ((await taskDefinitionOf('gmet')) === revisions.gmet[0] ? true : undefined), 30_000);
    // A round of checks found the goal not met (the alarm in ALARM): its progress is kept on the step.
    await eventually('a goal check that was not met', async () => {
      const step = (await api.step(incidentId, 'rollback')) as { status?: string; checkpointJson?: string } | undefined;
      return step?.status === 'running' && step.checkpointJson ? true : undefined;
    });
    await alarm(name, 'OK');
    const step = await api.waitStep(incidentId, 'rollback', ['succeeded', 'failed'], 30_000);
    expect(step).toMatchObject({ status: 'succeeded', goal: 'met' });
    const met = (await api.timeline(incidentId)).find((e) => e.type === 'mitigation.goal_met');
    expect(met?.data).toMatchObject({ step: 'rollback', action: 'deploy.rollback', results: [expect.objectContaining({ check: 'service-on-target', met: true }), expect.objectContaining({ check: 'alarms-ok', met: true })] });
    await api.alarm(name, 'OK');
    return incidentId;
  }

  it('a rollback whose goal is met ends succeeded with goal met, the call made once', async () => {
    const incidentId = await rollbackThatHolds();
    const types = (await api.timeline(incidentId)).filter((e) => e.data.step === 'rollback').map((e) => e.type);
    expect(types.filter((t) => t === 'step.started')).toHaveLength(1);
    expect(types).not.toContain('step.resumed');
    expect(types).not.toContain('mitigation.goal_missed');
  });

  it('a rollback whose goal is missed (the alarm stays ALARM) fails loudly: timeline, Slack escalation, RCA, not mitigated', async () => {
    const name = uniqueName('gmiss-5xx');
    await alarm(name, 'ALARM');
    const incidentId = await api.alarm(name);
    const step = await api.waitStep(incidentId, 'rollback', ['succeeded', 'failed'], 30_000);
    expect(step).toMatchObject({ status: 'failed', goal: 'missed' });
    expect(step.error).toMatch(new RegExp(`goal not met within 2 s .*${name} is ALARM`));
    // The call was made (once): the service is on the task definition it went to.
    expect(await taskDefinitionOf('gmiss')).toBe(revisions.gmiss[0]);
    const missed = (await api.timeline(incidentId)).find((e) => e.type === 'mitigation.goal_missed');
    expect(missed?.data).toMatchObject({ step: 'rollback', failed: [{ check: 'alarms-ok', met: false, detail: `${name} is ALARM` }] });

    // Slack: a loud message in the incident's thread that re-pings the approvers; stakeholders are told it is not fixed.
    const escalation = await eventually('the escalation in Slack', () => Promise.resolve(slack.messages('#inc-gmiss').find((m) => m.threadTs && /did not work/i.test(text(m)))));
    expect(text(escalation)).toContain('<@U0ALICE01>');
    expect(text(escalation)).toContain(`${name} is ALARM`);
    const status = slack.messages('#status-gmiss').map(text).join('\n');
    expect(status).not.toMatch(/recovering/);
    await eventually('the stakeholder update', () => Promise.resolve(/still having problems/i.test(slack.messages('#status-gmiss').map(text).join('\n')) ? true : undefined));

    // The RCA says what went wrong; the incident is not reported mitigated.
    const rca = (await api.get(`/incidents/${incidentId}/rca.md`).expect(200)).text;
    expect(rca).toMatch(/### What went wrong\n[\s\S]*Mitigation `rollback` \(deploy.rollback\) was made but missed its goal[\s\S]*goal not met within 2 s/);
    expect(rca).toContain('- Goal: **missed**');
    expect(rca).toContain(`${name} is ALARM`);
    const json = (await api.get(`/incidents/${incidentId}/rca.json`).expect(200)).body as { outcome: { outcome: string }; keyTimes: { mitigated: string | null }; actions: { step: string; goal: string | null }[] };
    expect(json.outcome.outcome).toBe('not_mitigated');
    expect(json.keyTimes.mitigated).toBeNull();
    expect(json.actions).toEqual([expect.objectContaining({ step: 'rollback', goal: 'missed' })]);
  });

  it('does not run the same rollback a third time within a day on its own: it asks a person, saying why', async () => {
    // Two incidents whose rollback "succeeded" and whose alarm came back (the first test made one).
    await deploy('gmet');
    await rollbackThatHolds();
    await deploy('gmet');
    const name = uniqueName('gmet-5xx');
    await alarm(name, 'ALARM');
    const incidentId = await api.alarm(name);
    const step = await api.waitStep(incidentId, 'rollback', ['awaiting_approval', 'running', 'succeeded', 'failed'], 30_000);
    expect(step.status).toBe('awaiting_approval');
    expect(step.approvalWhy).toMatch(/^deploy\.rollback on gmet already "succeeded" 2 times in the last 24 h \(.*\) and the alarm came back each time: a person decides/);
    // Nothing was called: the service is still on the redeployed :2.
    expect(await taskDefinitionOf('gmet')).toBe(revisions.gmet[1]);
    const request = await eventually('the approval request in Slack', () => Promise.resolve(slack.messages('#inc-gmet').find((m) => m.threadTs && /a person decides/.test(text(m)))));
    expect(text(request)).toContain('already');
  });
});
