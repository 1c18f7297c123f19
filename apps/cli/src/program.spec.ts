import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { knownActions } from '@responder/runbooks';
import { runCli } from './program';

/** Runs the CLI in process with captured stdout and stderr. */
async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env,
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    actions: knownActions([]),
  });
  return { code, stdout, stderr };
}

describe('responder command line parsing', () => {
  it('prints the help with the exit codes, exit 0, with no command or --help', async () => {
    for (const argv of [[], ['--help']]) {
      const r = await cli(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: responder');
      expect(r.stdout).toContain('Exit codes: 0 done; 1');
    }
  });

  it('gives each command its own --help', async () => {
    const r = await cli(['approve', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: responder approve [options] <incident-id> <step>');
    expect(r.stdout).toContain('--hash <paramsHash>');
  });

  it('refuses an unknown command, an unknown option, a missing argument and a malformed flag with exit 2 and nothing on stdout', async () => {
    for (const [argv, message] of [
      [['runbook', 'check'], /unknown command 'check'/],
      [['iam-policy', '--nope'], /unknown option '--nope'/],
      [['iam-policy', 'a', 'b'], /too many arguments/],
      [['rca'], /missing required argument 'incident-id'/],
      [['iam-policy', '--account', '12'], /--account must be a 12-digit account id, got "12"/],
      [['iam-policy', '--region', 'moon'], /--region must be an AWS region/],
      [['incidents', 'list', '--status', 'closed'], /Allowed choices are open, resolved/],
    ] as const) {
      const r = await cli([...argv]);
      expect({ argv, code: r.code, stdout: r.stdout }).toEqual({ argv, code: 2, stdout: '' });
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('responder commands that call the HTTP API', () => {
  let server: Server;
  let url: string;
  const seen: Array<{ method: string; path: string; auth: string | undefined; body: unknown }> = [];
  const incident = {
    id: 'inc-1',
    status: 'open',
    service: 'checkout',
    title: 'checkout-alb-5xx',
    openedAt: '2026-12-07T10:00:00.000Z',
    resolvedAt: null,
    verdict: { cause: 'deployment', confidence: 0.9, summary: 'checkout:42 broke it' },
    runs: [{ id: 'r1', runbook: 'production-down', status: 'running', steps: [{ id: 'rollback', status: 'awaiting_approval', approval: 'pending', paramsHash: 'abcd1234abcd1234', plan: 'UpdateService prod/checkout checkout:42 → checkout:41' }] }],
  };

  const body = (req: IncomingMessage) =>
    new Promise<unknown>((resolve) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => resolve(data ? (JSON.parse(data) as unknown) : undefined));
    });

  beforeAll(async () => {
    server = createServer((req, res) => {
      void body(req).then((b) => {
        seen.push({ method: req.method!, path: req.url!, auth: req.headers.authorization, body: b });
        res.setHeader('content-type', 'application/json');
        if (req.headers.authorization !== 'Bearer personal-token-of-ana') {
          res.statusCode = 401;
          res.end(JSON.stringify({ message: 'unknown token' }));
        } else if (req.url === '/incidents?status=open') {
          res.end(JSON.stringify({ items: [incident], total: 1, limit: 50, offset: 0, nextOffset: null }));
        } else if (req.url === '/incidents/inc-1') {
          res.end(JSON.stringify(incident));
        } else if (req.url === '/incidents/inc-1/steps/rollback/approve') {
          res.end(JSON.stringify({ outcome: 'granted' }));
        } else {
          res.statusCode = 404;
          res.end(JSON.stringify({ message: `no ${req.url}` }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (seen.length = 0));

  const env = () => ({ RESPONDER_URL: url, RESPONDER_TOKEN: 'personal-token-of-ana', API_TOKEN: 'shared-token' });

  it('lists incidents as a table on stdout, or the API answer with --json, sending the personal token over the shared one', async () => {
    const table = await cli(['incidents', 'list', '--status', 'open'], env());
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+SERVICE\s+OPENED\s+TITLE$/);
    expect(table.stdout).toMatch(/inc-1\s+open\s+checkout\s+2026-12-07T10:00:00.000Z\s+checkout-alb-5xx/);
    const json = await cli(['incidents', 'list', '--status', 'open', '--json'], env());
    expect(JSON.parse(json.stdout)).toMatchObject({ items: [{ id: 'inc-1' }], total: 1 });
    expect(seen.every((s) => s.auth === 'Bearer personal-token-of-ana')).toBe(true);
  });

  it('shows an incident with its verdict and the step awaiting approval', async () => {
    const r = await cli(['incidents', 'show', 'inc-1'], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('verdict: deployment (90%): checkout:42 broke it');
    expect(r.stdout).toMatch(/rollback\s+awaiting_approval\s+UpdateService prod\/checkout checkout:42 → checkout:41 {2}\[awaiting approval, hash abcd1234abcd1234\]/);
  });

  it('does not approve without the plan hash or --yes: it prints the plan and the command, exit 1, and posts nothing', async () => {
    const r = await cli(['approve', 'inc-1', 'rollback'], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('plan: UpdateService prod/checkout checkout:42 → checkout:41');
    expect(r.stderr).toContain('responder approve inc-1 rollback --hash abcd1234abcd1234');
    expect(seen.map((s) => s.method)).toEqual(['GET']);
  });

  it('approves the exact hash given, with no approver in the body (the token says who)', async () => {
    const r = await cli(['approve', 'inc-1', 'rollback', '--hash', 'abcd1234abcd1234'], env());
    expect(r).toMatchObject({ code: 0, stdout: 'granted\n' });
    expect(seen).toEqual([{ method: 'POST', path: '/incidents/inc-1/steps/rollback/approve', auth: 'Bearer personal-token-of-ana', body: { paramsHash: 'abcd1234abcd1234' } }]);
  });

  it('reports the API refusal on stderr with exit 1, and an unreachable service the same way', async () => {
    const refused = await cli(['incidents', 'show', 'inc-1'], { ...env(), RESPONDER_TOKEN: 'wrong' });
    expect(refused).toMatchObject({ code: 1, stdout: '', stderr: 'incidents show: 401 unknown token\n' });
    const down = await cli(['incidents', 'list', '--url', 'http://127.0.0.1:9'], env());
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^incidents list: cannot reach http:\/\/127\.0\.0\.1:9: /);
    const none = await cli(['pause'], { RESPONDER_URL: url });
    expect(none).toMatchObject({ code: 1, stderr: 'pause: no credential: set RESPONDER_TOKEN (your personal token) or API_TOKEN\n' });
  });
});

describe('responder runbook validate: people in the catalog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-people-'));
    writeFileSync(join(dir, 'pause.yaml'), 'name: pause\ntriggers: { services: [shop] }\nsteps:\n  - { id: wait, action: wait, with: { seconds: 5 } }\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts people that groups name, and refuses a Slack id or e-mail of two people and a group naming an unknown person, naming each', async () => {
    const catalog = (bob: string, group: string) =>
      `people:\n  alice: { slack: U0ALICE01, email: alice@example.com }\n  bob: ${bob}\napproverGroups:\n  oncall: { people: ${group} }\nservices:\n  shop: { alarms: { names: [shop-5xx] }, approvers: [oncall] }\n`;
    writeFileSync(join(dir, 'service-catalog.yaml'), catalog('{ slack: U0BOB0001, email: bob@example.com }', '[alice, bob]'));
    expect(await cli(['runbook', 'validate', dir])).toMatchObject({ code: 0, stdout: '1 runbook valid, service catalog valid\n' });

    writeFileSync(join(dir, 'service-catalog.yaml'), catalog('{ slack: U0ALICE01, email: ALICE@example.com }', '[alice, bobby]'));
    const r = await cli(['runbook', 'validate', dir]);
    expect(r.code).toBe(1);
    const file = join(dir, 'service-catalog.yaml');
    expect(r.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        `${file}:3:17: people.bob.slack: Slack user id "U0ALICE01" already belongs to person "alice" (their Slack user id): one name, one person`,
        `${file}:3:35: people.bob.email: e-mail "ALICE@example.com" already belongs to person "alice" (their e-mail): one name, one person`,
        `${file}:5:29: approverGroups.oncall.people[1]: unknown person "bobby" (not in people: alice, bob)`,
      ]),
    );
  });
});

