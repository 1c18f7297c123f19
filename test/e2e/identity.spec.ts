import { execFile, spawnSync } from 'node:child_process';
import { type Server, createServer } from 'node:http';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { type JWK, type KeyLike, SignJWT, exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { ApiTokenStore } from '@responder/store';
import { API_TOKEN, startApp } from '../support/app';
import { client, personToken } from '../support/engine';
import { FIXTURES } from '../support/events';
import { freePort } from '../support/net';
import { testRedis } from '../support/redis';
import { createTestActions, testCount } from '../support/test-actions';

/**
 * Approver identity comes from the credential: a personal token (made with the CLI) or an OIDC JWT.
 * The shared API_TOKEN reads but cannot decide; one identity never counts twice for two-person.
 */
const ROOT = join(__dirname, '..', '..');
const CATALOG = join(FIXTURES, 'catalog', 'engine.yaml');
const { redis, prefix, cleanup } = testRedis('identity');
const actions = createTestActions(redis, prefix);
const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'responder';

const RUNBOOK = `
name: approvals
triggers: { services: [appr, cli] }
steps:
  - { id: look, action: test.diagnose, with: { value: look } }
  - id: fix
    action: test.mutate
    needs: [look]
    with: { target: "\${{ incident.id }}" }
    approval: required
    timeout: 60s
  - id: fix-twice
    action: test.mutate
    needs: [look]
    with: { target: "\${{ incident.id }}-2" }
    approval: required
    two_person: true
    timeout: 60s
`;

let app: INestApplication;
let logs: () => string;
let api: ReturnType<typeof client>;
let jwks: Server;
let signingKey: KeyLike;
let otherKey: KeyLike;

/** A JWT as the identity provider would sign it; `over` changes claims, `key` the signing key. */
async function jwt(claims: Record<string, unknown>, { key = signingKey, issuer = ISSUER, audience = AUDIENCE, expiresIn = '5m' } = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key === signingKey ? 'idp-1' : 'other-1' }).setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime(expiresIn).sign(key);
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
  // The identity provider's JWKS endpoint: the only key Responder should trust.
  jwks = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => jwks.listen(port, '127.0.0.1', resolve));
  ({ app, logs } = await startApp(
    prefix,
    { OIDC_ISSUER: ISSUER, OIDC_AUDIENCE: AUDIENCE, OIDC_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, OIDC_USER_CLAIM: 'email' },
    { catalogFile: CATALOG, runbooks: [RUNBOOK], actions },
  ));
  api = client(app);
});
afterAll(async () => {
  await app.close();
  await new Promise((resolve) => jwks.close(resolve));
  await cleanup();
});

const approve = (token: string, incidentId: string, step: string, body: object) => api.postAs(token, `/incidents/${incidentId}/steps/${step}/approve`, body);

describe('approver identity', () => {
  let incidentId: string;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    alice = await personToken(redis, prefix, 'alice@example.com');
    bob = await personToken(redis, prefix, 'bob@example.com');
    incidentId = await api.alarm('appr-5xx');
  });

  it('the shared API_TOKEN reads, but cannot approve or reject (403), whatever the body says', async () => {
    const fix = await api.waitStep(incidentId, 'fix', ['awaiting_approval']);
    await api.get(`/incidents/${incidentId}`).expect(200);
    const refused = await api.post(`/incidents/${incidentId}/steps/fix/approve`, { approver: 'alice@example.com', paramsHash: fix.paramsHash }).expect(403);
    expect(refused.body.message).toMatch(/shared API_TOKEN cannot approve/);
    await api.post(`/incidents/${incidentId}/steps/fix/reject`, { approver: 'alice@example.com' }).expect(403);
    expect((await api.step(incidentId, 'fix'))!).toMatchObject({ status: 'awaiting_approval', approvals: [] });
  });

  it('refuses unknown, malformed and revoked personal tokens with 401', async () => {
    const fix = await api.waitStep(incidentId, 'fix', ['awaiting_approval']);
    const unknown = `rsp_0badc0de_${'A'.repeat(43)}`;
    expect((await approve(unknown, incidentId, 'fix', { paramsHash: fix.paramsHash }).expect(401)).body.message).toBe('unknown personal token');
    await approve('rsp_not-a-token', incidentId, 'fix', { paramsHash: fix.paramsHash }).expect(401);
    // A real token with one character changed: same id, wrong secret.
    await approve(`${alice.slice(0, -1)}${alice.endsWith('A') ? 'B' : 'A'}`, incidentId, 'fix', { paramsHash: fix.paramsHash }).expect(401);
    const store = new ApiTokenStore(redis, prefix);
    const { token, record } = await store.create('bob@example.com');
    await api.postAs(token, '/automation/resume', {}).expect(200);
    await store.revoke(record.id);
    expect((await approve(token, incidentId, 'fix', { paramsHash: fix.paramsHash }).expect(401)).body.message).toBe('this personal token has been revoked');
    await request(app.getHttpServer()).get('/incidents').set('Authorization', `Bearer ${token}`).expect(401);
    expect((await api.step(incidentId, 'fix'))!.status).toBe('awaiting_approval');
  });

  it('refuses a body approver that is not the credential (400), and a token of someone who is not an approver (403)', async () => {
    const fix = await api.waitStep(incidentId, 'fix', ['awaiting_approval']);
    const wrong = await approve(alice, incidentId, 'fix', { approver: 'bob@example.com', paramsHash: fix.paramsHash }).expect(400);
    expect(wrong.body.message).toContain('approver "bob@example.com" is not the identity of this credential (alice@example.com)');
    const mallory = await personToken(redis, prefix, 'mallory@example.com');
    expect((await approve(mallory, incidentId, 'fix', { paramsHash: fix.paramsHash }).expect(403)).body.message).toMatch(/mallory@example.com is not one of the approvers/);
    expect((await api.step(incidentId, 'fix'))!.status).toBe('awaiting_approval');
  });

  it("a personal token approves as its person (the body's matching approver is accepted)", async () => {
    const fix = await api.waitStep(incidentId, 'fix', ['awaiting_approval']);
    const granted = await approve(alice, incidentId, 'fix', { approver: 'alice@example.com', paramsHash: fix.paramsHash }).expect(200);
    expect(granted.body).toMatchObject({ outcome: 'granted', approvals: 1, needed: 1 });
    const done = await api.waitStep(incidentId, 'fix', ['succeeded']);
    expect(done).toMatchObject({ approval: 'granted', approvals: [expect.objectContaining({ by: 'alice@example.com' })] });
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
  });

  it('two-person: one identity twice (two tokens, or a token and a JWT) is not granted; a second person is', async () => {
    const step = await api.waitStep(incidentId, 'fix-twice', ['awaiting_approval']);
    const aliceAgain = await personToken(redis, prefix, 'alice@example.com');
    expect((await approve(alice, incidentId, 'fix-twice', { paramsHash: step.paramsHash }).expect(200)).body).toMatchObject({ outcome: 'recorded', approvals: 1, needed: 2 });
    expect((await approve(aliceAgain, incidentId, 'fix-twice', { paramsHash: step.paramsHash }).expect(409)).body.code).toBe('duplicate');
    const aliceJwt = await jwt({ email: 'alice@example.com' });
    expect((await approve(aliceJwt, incidentId, 'fix-twice', { paramsHash: step.paramsHash }).expect(409)).body.code).toBe('duplicate');
    expect((await api.step(incidentId, 'fix-twice'))!.status).toBe('awaiting_approval');
    expect(await testCount(redis, prefix, 'calls-total', `${incidentId}-2`)).toBe(0);
    expect((await approve(bob, incidentId, 'fix-twice', { paramsHash: step.paramsHash }).expect(200)).body).toMatchObject({ outcome: 'granted', approvals: 2 });
    await api.waitStep(incidentId, 'fix-twice', ['succeeded']);
    expect(await testCount(redis, prefix, 'calls-total', `${incidentId}-2`)).toBe(1);
  });

  it('an OIDC JWT approves as the person its claim names; wrong audience, issuer, key or expiry get 401', async () => {
    await api.alarm('appr-5xx', 'OK');
    const second = await api.alarm('appr-latency');
    const fix = await api.waitStep(second, 'fix', ['awaiting_approval']);
    const refusals: Array<[string, Promise<string>, RegExp]> = [
      ['wrong audience', jwt({ email: 'bob@example.com' }, { audience: 'someone-else' }), /OIDC token refused: .*"aud"/],
      ['wrong issuer', jwt({ email: 'bob@example.com' }, { issuer: 'https://evil.example.test/' }), /OIDC token refused: .*"iss"/],
      ['expired', jwt({ email: 'bob@example.com' }, { expiresIn: '-10m' }), /OIDC token refused: .*"exp"/],
      ['another key', jwt({ email: 'bob@example.com' }, { key: otherKey }), /OIDC token refused/],
      ['no email claim', jwt({ sub: 'bob' }), /OIDC token refused: the token has no "email" claim/],
    ];
    for (const [what, token, message] of refusals) {
      const res = await approve(await token, second, 'fix', { paramsHash: fix.paramsHash });
      expect([what, res.status]).toEqual([what, 401]);
      expect(res.body.message).toMatch(message);
    }
    expect((await api.step(second, 'fix'))!.status).toBe('awaiting_approval');
    const granted = await approve(await jwt({ email: 'bob@example.com' }), second, 'fix', { paramsHash: fix.paramsHash }).expect(200);
    expect(granted.body.outcome).toBe('granted');
    expect(await api.waitStep(second, 'fix', ['succeeded'])).toMatchObject({ approvals: [expect.objectContaining({ by: 'bob@example.com' })] });
  });

  it('never logs a credential', () => {
    expect(logs()).toContain('API request refused');
    expect(logs()).not.toMatch(/rsp_[0-9a-f]{8}_[A-Za-z0-9_-]{43}/);
    expect(logs()).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ/);
    expect(logs()).not.toContain(API_TOKEN);
  });
});

describe('responder tokens', () => {
  const cli = (...args: string[]) => {
    // the built command line (npm test builds it first), as it runs in the image
    const r = spawnSync(join(ROOT, 'bin', 'responder'), ['tokens', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, REDIS_PREFIX: prefix, SERVICE_CATALOG: CATALOG },
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('creates a token for a catalog approver (shown once), lists it without the secret, and revokes it', async () => {
    const created = cli('create', 'carol@example.com', '--label', 'laptop');
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^rsp_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/shown only now/);
    const id = token.split('_')[1];
    await api.get('/incidents').set('Authorization', `Bearer ${token}`).expect(200);
    const listed = cli('list');
    expect(listed.stdout).toMatch(new RegExp(`^${id}  carol@example.com  laptop  created `, 'm'));
    // The secret is everything after `rsp_<id>_` (it may hold `_` itself).
    expect(listed.stdout).not.toContain(token.slice(`rsp_${id}_`.length));
    // Only the hash is stored: the token appears nowhere in Redis.
    const keys = await redis.keys(`${prefix}:apitoken*`);
    for (const key of keys) expect(JSON.stringify(await (key.endsWith(':apitokens') ? redis.hgetall(key) : redis.get(key)))).not.toContain(token.split('_')[2]);
    expect(cli('revoke', id)).toMatchObject({ code: 0 });
    expect(cli('list').stdout).toMatch(new RegExp(`^${id} .* REVOKED `, 'm'));
    await request(app.getHttpServer()).get('/incidents').set('Authorization', `Bearer ${token}`).expect(401);
  });

  it('refuses a user who is not an approver in the catalog, and an unknown id', () => {
    const refused = cli('create', 'mallory@example.com');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('"mallory@example.com" is not in any approver group');
    expect(refused.stdout).toBe('');
    expect(cli('revoke', 'ffffffff')).toMatchObject({ code: 1, stderr: expect.stringContaining('no token ffffffff') });
    expect(cli('create').code).toBe(2);
  });
});

describe('the built responder binary against the running service, as the person of its token', () => {
  let url: string;
  // asynchronous: the service answers from this very process, so a blocking spawnSync would starve it
  const bin = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(join(ROOT, 'bin', 'responder'), args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, RESPONDER_URL: url, ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
      );
    });
  beforeAll(async () => {
    const port = await freePort();
    await app.listen(port, '127.0.0.1');
    url = `http://127.0.0.1:${port}`;
  });

  it('lists and shows incidents, approves the exact plan as bob, refuses the shared token, rejects, pauses and resumes', async () => {
    const bob = await personToken(redis, prefix, 'bob@example.com');
    const incidentId = await api.alarm('cli-5xx');
    const fix = await api.waitStep(incidentId, 'fix', ['awaiting_approval']);

    const list = await bin(['incidents', 'list', '--status', 'open', '--json'], { RESPONDER_TOKEN: bob });
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { items: Array<{ id: string }> }).items.map((i) => i.id)).toContain(incidentId);
    const show = await bin(['incidents', 'show', incidentId], { RESPONDER_TOKEN: bob });
    expect(show.stdout).toContain(`hash ${fix.paramsHash as string}`);

    const shared = await bin(['approve', incidentId, 'fix', '--hash', fix.paramsHash as string], { RESPONDER_TOKEN: '', API_TOKEN });
    expect(shared.code).toBe(1);
    expect(shared.stderr).toMatch(/^approve: 403 .*shared API_TOKEN cannot approve/m);

    const approved = await bin(['approve', incidentId, 'fix', '--hash', fix.paramsHash as string], { RESPONDER_TOKEN: bob });
    expect(approved).toMatchObject({ code: 0, stdout: 'granted\n' });
    expect(await api.waitStep(incidentId, 'fix', ['succeeded'])).toMatchObject({ approval: 'granted', approvals: [{ by: 'bob@example.com' }] });

    await api.waitStep(incidentId, 'fix-twice', ['awaiting_approval']);
    const rejected = await bin(['reject', incidentId, 'fix-twice', '--reason', 'not during the incident'], { RESPONDER_TOKEN: bob });
    expect(rejected).toMatchObject({ code: 0 });
    expect(await api.waitStep(incidentId, 'fix-twice', ['rejected'])).toMatchObject({ approval: 'rejected' });

    expect(await bin(['pause', '--reason', 'cli test'], { RESPONDER_TOKEN: bob })).toMatchObject({ code: 0, stdout: 'paused\n' });
    expect((await api.timeline(incidentId)).some((e) => e.type === 'automation.paused')).toBe(true);
    expect(await bin(['resume'], { RESPONDER_TOKEN: bob })).toMatchObject({ code: 0, stdout: 'resumed\n' });
    expect(await bin(['resume'], { RESPONDER_TOKEN: bob })).toMatchObject({ code: 0, stdout: 'resumed (it already was)\n' });
  });
});
