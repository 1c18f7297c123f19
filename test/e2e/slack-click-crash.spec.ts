import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_TOKEN, INGEST_KEY } from '../support/app';
import { client } from '../support/engine';
import { FIXTURES } from '../support/events';
import { freePort } from '../support/net';
import { testRedis } from '../support/redis';
import { blockActionsBody, signSlackRequest } from '../support/slack-sign';
import { type SlackStub, type StubMessage, startSlackStub } from '../support/slack-stub';
import { testCount } from '../support/test-actions';

/** An acknowledged Approve click survives the process dying right after the ack, and applies once. */
const ROOT = join(__dirname, '..', '..');
const SIGNING_SECRET = 'test-signing-secret-0123456789';
const { redis, prefix, cleanup } = testRedis('clickcrash');
const dir = mkdtempSync(join(tmpdir(), 'click-crash-'));
const runbookFile = join(dir, 'click.yaml');
writeFileSync(
  runbookFile,
  `
name: click
triggers: { services: [shop] }
steps:
  - id: fix
    action: test.mutate
    with: { target: "\${{ incident.id }}" }
    approval: required
    timeout: 5m
`,
);

let slack: SlackStub;
const children: ChildProcess[] = [];
beforeAll(async () => {
  slack = await startSlackStub();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await slack.close();
  await cleanup();
});

async function startChild(env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'test/support/engine-child.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      PORT: String(port),
      REDIS_PREFIX: prefix,
      INGEST_API_KEY: INGEST_KEY,
      API_TOKEN,
      LOG_LEVEL: 'warn',
      ENGINE_STALLED_MS: '2000',
      SLACK_BOT_TOKEN: 'xoxb-test-0000-token',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      CATALOG_FILE: join(FIXTURES, 'catalog', 'slack.yaml'),
      RUNBOOK_FILES: runbookFile,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('CHILD-LISTENING') && resolve());
    child.on('exit', (code) => reject(new Error(`child exited with ${code}: ${stderr}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

function buttons(m: StubMessage): Array<{ action_id: string; value: string }> {
  return (m.blocks ?? []).flatMap((b) => ((b as { type: string }).type === 'actions' ? ((b as { elements: Array<{ action_id: string; value: string }> }).elements ?? []) : []));
}

describe('an acknowledged Approve click', () => {
  it('is applied once after the process is killed right after the ack', async () => {
    let { child, url } = await startChild({ KILL_AFTER_SLACK_ACK: '1' });
    const incidentId = await client(url).alarm('shop-5xx');
    const waiting = await client(url).waitStep(incidentId, 'fix', ['awaiting_approval'], 30_000);
    const asked = await slack.waitFor(() => slack.messages('#inc-shop').find((m) => buttons(m).some((b) => b.action_id === 'responder_approve')), 15_000);
    const approve = buttons(asked).find((b) => b.action_id === 'responder_approve')!;
    expect(JSON.parse(approve.value)).toMatchObject({ incidentId, step: 'fix', paramsHash: waiting.paramsHash });

    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const body = blockActionsBody({ userId: 'U0ALICE01', actionId: approve.action_id, value: approve.value, channelId: asked.channel, messageTs: asked.ts });
    const ack = await fetch(`${url}/slack/events`, { method: 'POST', headers: signSlackRequest(SIGNING_SECRET, body), body });
    // Slack was told the click is accepted; then the process died.
    expect(ack.status).toBe(200);
    expect(await exited).toBe('SIGKILL');

    ({ child, url } = await startChild());
    const done = await client(url).waitStep(incidentId, 'fix', ['succeeded'], 30_000);
    expect(done).toMatchObject({ approval: 'granted', approvals: [expect.objectContaining({ by: 'U0ALICE01' })] });
    expect(done.approvals).toHaveLength(1);
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
    const timeline = await client(url).timeline(incidentId);
    expect(timeline.filter((e) => e.type === 'approval.granted')).toHaveLength(1);
    // The replay told the approver nothing misleading ("already decided").
    expect(slack.ephemerals.filter((e) => e.user === 'U0ALICE01')).toEqual([]);
    child.kill('SIGKILL');
  }, 120_000);
});
