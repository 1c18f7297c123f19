import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { API_TOKEN, startApp } from '../support/app';
import { client, eventually, personToken } from '../support/engine';
import { testRedis } from '../support/redis';
import { createTestActions } from '../support/test-actions';

/**
 * The postmortem's life and the outcome figures, through the real service: incidents seeded by
 * alarms and the engine (a policy's mitigation, a person's approval, recovery outside Responder,
 * one still open), then GET /incidents/stats, /metrics, PATCH /incidents/:id/postmortem and the
 * RCA (API and CLI).
 */
const ROOT = join(__dirname, '..', '..');
const { redis, prefix, cleanup } = testRedis('postmortem');
const dir = mkdtempSync(join(tmpdir(), 'postmortem-'));
const CATALOG = join(dir, 'catalog.yaml');
writeFileSync(
  CATALOG,
  `
approverGroups:
  oncall: { users: [alice@example.com, bob@example.com] }
services:
  pol: { alarms: { patterns: ["pol-*"] }, approvers: [oncall], autonomy: auto }
  ask: { alarms: { patterns: ["ask-*"] }, approvers: [oncall], autonomy: auto }
  calm: { alarms: { patterns: ["calm-*"] }, approvers: [oncall], autonomy: auto }
  still: { alarms: { patterns: ["still-*"] }, approvers: [oncall], autonomy: auto }
`,
);
const RUNBOOKS = [
  `
name: by-policy
triggers: { services: [pol] }
policies:
  always: { description: a policy that always holds, when: true }
steps:
  - { id: look, action: test.diagnose, with: { value: 1 } }
  - { id: fix, action: test.mutate, needs: [look], with: { target: "\${{ incident.id }}" }, approval: { policy: always } }
`,
  `
name: by-people
triggers: { services: [ask] }
steps:
  - { id: look, action: test.diagnose, with: { value: 1 } }
  - { id: fix, action: test.mutate, needs: [look], with: { target: "\${{ incident.id }}" }, approval: required, timeout: 5m }
`,
  `
name: look-only
triggers: { services: [calm, still] }
steps:
  - { id: look, action: test.diagnose, with: { value: 1 } }
`,
];

let app: INestApplication;
let api: ReturnType<typeof client>;
let alice: string;
const since = new Date(Date.now() - 60_000).toISOString();
const ids: Record<'pol' | 'ask' | 'calm' | 'still', string> = { pol: '', ask: '', calm: '', still: '' };

beforeAll(async () => {
  ({ app } = await startApp(prefix, {}, { catalogFile: CATALOG, runbooks: RUNBOOKS, actions: createTestActions(redis, prefix) }));
  api = client(app);
  alice = await personToken(redis, prefix, 'alice@example.com');
  const onset = new Date(Date.now() - 10 * 60_000);
  for (const service of Object.keys(ids) as Array<keyof typeof ids>) ids[service] = await api.alarm(`${service}-5xx`, 'ALARM', onset);
  await api.waitStep(ids.pol, 'fix', ['succeeded']);
  await api.waitStep(ids.ask, 'fix', ['awaiting_approval']);
  await api.postAs(alice, `/incidents/${ids.ask}/steps/fix/approve`, {}).expect(200);
  await api.waitStep(ids.ask, 'fix', ['succeeded']);
  await api.waitRun(ids.calm, ['succeeded']);
  await api.waitRun(ids.still, ['succeeded']);
  for (const service of ['pol', 'ask', 'calm'] as const) await api.alarm(`${service}-5xx`, 'OK');
}, 60_000);
afterAll(async () => {
  await app.close();
  await cleanup();
});

const server = (): Parameters<typeof request>[0] => app.getHttpServer() as Parameters<typeof request>[0];

describe('GET /incidents/stats', () => {
  it('says how each incident since a moment was mitigated, with the median of each phase', async () => {
    const stats = (await api.get(`/incidents/stats?since=${encodeURIComponent(since)}`).expect(200)).body as {
      incidents: number;
      outcomes: Record<string, number>;
      phases: Record<string, { count: number; medianMs: number | null }>;
      failedDeploymentRecovery: { count: number; medianMs: number | null };
      items: Array<{ incidentId: string; outcome: string; recovered: boolean; phases: Record<string, number | null> }>;
      truncated: boolean;
      since: string;
    };
    expect(stats).toMatchObject({ incidents: 4, truncated: false, since, outcomes: { policy: 1, approved: 1, people: 1, not_mitigated: 1 } });
    const outcome = (id: string) => stats.items.find((i) => i.incidentId === id);
    expect(outcome(ids.pol)).toMatchObject({ outcome: 'policy', recovered: true });
    expect(outcome(ids.ask)).toMatchObject({ outcome: 'approved', recovered: true });
    expect(outcome(ids.calm)).toMatchObject({ outcome: 'people', recovered: true, phases: { mitigateMs: null, recoverMs: null } });
    expect(outcome(ids.still)).toMatchObject({ outcome: 'not_mitigated', recovered: false, phases: { restoreMs: null } });
    // Two incidents were mitigated by Responder, one had a person (alice's approval), three recovered.
    expect(stats.phases.mitigate.count).toBe(2);
    expect(stats.phases.acknowledge.count).toBe(1);
    expect(stats.phases.restore.count).toBe(3);
    // The alarm fired ten minutes before it was sent, so every mitigation is at least that late: medians, not means.
    expect(stats.phases.mitigate.medianMs).toBeGreaterThanOrEqual(10 * 60_000);
    const mitigations = [outcome(ids.pol)!.phases.mitigateMs!, outcome(ids.ask)!.phases.mitigateMs!];
    expect(stats.phases.mitigate.medianMs).toBe((mitigations[0] + mitigations[1]) / 2);
    // No verdict blamed a deployment.
    expect(stats.failedDeploymentRecovery).toEqual({ count: 0, medianMs: null });
  });

  it('counts nothing opened after since; refuses a bad since with a clear message; needs a credential', async () => {
    const later = (await api.get(`/incidents/stats?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`).expect(200)).body as { incidents: number; items: unknown[] };
    expect(later).toMatchObject({ incidents: 0, items: [] });
    for (const bad of ['since=yesterday', 'since=2024-13-45T00:00:00Z', '', `since=${encodeURIComponent(since)}&limit=2`]) {
      const res = await api.get(`/incidents/stats?${bad}`).expect(400);
      expect((res.body as { message: string }).message).toMatch(/^bad query: /);
    }
    expect(((await api.get('/incidents/stats?since=yesterday')).body as { message: string }).message).toContain('since: expected an ISO 8601 time such as 2024-11-01T00:00:00Z');
    await request(server()).get(`/incidents/stats?since=${encodeURIComponent(since)}`).expect(401);
  });
});

describe('/metrics', () => {
  it('counts each resolved incident by outcome, and observes the phases of its response and the recovery time', async () => {
    const text = await eventually('the outcomes to be counted', async () => {
      const body = (await request(server()).get('/metrics').expect(200)).text;
      return /responder_incident_outcomes_total\{outcome="people"\} 1/.test(body) ? body : undefined;
    });
    expect(text).toContain('# TYPE responder_incident_outcomes_total counter');
    expect(text).toMatch(/responder_incident_outcomes_total\{outcome="policy"\} 1\n/);
    expect(text).toMatch(/responder_incident_outcomes_total\{outcome="approved"\} 1\n/);
    expect(text).toContain('# TYPE responder_incident_phase_seconds histogram');
    expect(text).toMatch(/responder_incident_phase_seconds_count\{phase="mitigate"\} 2\n/);
    expect(text).toMatch(/responder_incident_phase_seconds_count\{phase="restore"\} 3\n/);
    expect(text).toMatch(/responder_incident_phase_seconds_bucket\{le="300",phase="mitigate"\} 0\n/);
    expect(text).toContain('# TYPE responder_failed_deployment_recovery_seconds histogram');
  });
});

describe('PATCH /incidents/:id/postmortem', () => {
  const path = () => `/incidents/${ids.pol}/postmortem`;
  const patch = (token: string, body: unknown) => request(server()).patch(path()).set('Authorization', `Bearer ${token}`).send(body as object);

  it('sets the owner and status as the person of the credential, on the timeline, at the top of the RCA and in rca.json', async () => {
    const res = await patch(alice, { owner: 'bob@example.com', status: 'review' }).expect(200);
    expect(res.body).toMatchObject({ incidentId: ids.pol, status: 'review', owner: 'bob@example.com', changed: true, entry: { type: 'postmortem.updated', data: { by: 'alice@example.com', owner: 'bob@example.com', status: 'review', previousStatus: 'draft', source: 'api' } } });
    // The same again changes nothing and writes nothing.
    expect((await patch(alice, { status: 'review' }).expect(200)).body).toMatchObject({ changed: false, entry: null });
    const entries = (await api.timeline(ids.pol)).filter((e) => e.type === 'postmortem.updated');
    expect(entries).toHaveLength(1);
    expect(((await api.get(`/incidents/${ids.pol}`).expect(200)).body as { postmortem: unknown }).postmortem).toMatchObject({ status: 'review', owner: 'bob@example.com', updatedBy: 'alice@example.com' });
    const md = (await api.get(`/incidents/${ids.pol}/rca.md`).expect(200)).text;
    expect(md.split('\n')[2]).toMatch(/^\*\*Postmortem\*\*: in review; owner: bob\\@example\.com \(last set by alice\\@example\.com at .+ UTC\)$/);
    expect(md).toContain('| Postmortem in review, owner bob\\@example.com | alice\\@example.com |');
    const json = (await api.get(`/incidents/${ids.pol}/rca.json`).expect(200)).body as { postmortem: unknown; outcome: unknown; draft: boolean };
    expect(json).toMatchObject({ draft: true, postmortem: { status: 'review', label: 'in review', owner: 'bob@example.com' }, outcome: { outcome: 'policy', recovered: true } });

    await patch(alice, { status: 'published' }).expect(200);
    const published = (await api.get(`/incidents/${ids.pol}/rca.md`).expect(200)).text;
    expect(published).toContain('> **Published** by its owner.');
    expect(published).not.toContain('Draft — check before publishing');
  });

  it('refuses the shared API token, a bad body and an unknown incident, each with a clear answer', async () => {
    expect((await patch(API_TOKEN, { status: 'review' }).expect(403)).body.message).toMatch(/shared API_TOKEN cannot set a postmortem/);
    await request(server()).patch(path()).send({ status: 'review' }).expect(401);
    expect((await patch(alice, { status: 'done' }).expect(400)).body.message).toMatch(/^bad body: status: expected one of draft, review, published/);
    expect((await patch(alice, {}).expect(400)).body.message).toMatch(/expected owner, status or both/);
    expect((await patch(alice, { owner: '' }).expect(400)).body.message).toMatch(/owner: expected who owns the postmortem/);
    expect((await patch(alice, { owner: 'x', by: 'mallory' }).expect(400)).body.message).toMatch(/^bad body: /);
    await request(server()).patch('/incidents/inc_NOPE/postmortem').set('Authorization', `Bearer ${alice}`).send({ status: 'review' }).expect(404);
    expect((await api.timeline(ids.pol)).filter((e) => e.type === 'postmortem.updated')).toHaveLength(2);
  });

  it('the CLI gives the same rca.json (outcome, phases, postmortem)', () => {
    const cli = spawnSync(join(ROOT, 'bin', 'responder'), ['rca', ids.ask, '--json'], { cwd: ROOT, env: { ...process.env, REDIS_PREFIX: prefix }, encoding: 'utf8' });
    expect(cli.status).toBe(0);
    const model = JSON.parse(cli.stdout) as { outcome: { outcome: string; phases: Record<string, unknown> }; postmortem: unknown; impact: { failedRequests: unknown } };
    expect(model.outcome).toMatchObject({ outcome: 'approved', phases: { mitigateMs: expect.any(Number), acknowledgeMs: expect.any(Number) } });
    expect(model.postmortem).toEqual({ status: 'draft', label: 'draft', owner: null, updatedBy: null, updatedAt: null });
    expect(model.impact.failedRequests).toMatchObject({ estimate: null, method: 'not estimated: no metrics step succeeded, so no 5xx count was kept' });
  });
});
