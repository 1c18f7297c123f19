import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { startApp } from '../support/app';
import { client } from '../support/engine';
import { FIXTURES } from '../support/events';
import { testRedis } from '../support/redis';
import { createTestActions, testCount } from '../support/test-actions';

const CATALOG = join(FIXTURES, 'catalog', 'engine.yaml');
const { redis, prefix, cleanup } = testRedis('manual-run');
const actions = createTestActions(redis, prefix);

const RUNBOOKS = [
  `
name: manual-fix
triggers: { manual_only: true }
inputs:
  target: { default: nothing, description: what to change }
steps:
  - { id: look, action: test.diagnose, with: { value: "\${{ inputs.target }}" } }
  - { id: change, action: test.mutate, needs: [look], with: { target: "\${{ inputs.target }}" }, approval: none }
`,
  `
name: manual-look
triggers: { manual_only: true }
steps:
  - { id: look, action: test.diagnose, with: { value: "\${{ incident.id }}" } }
`,
];

let app: INestApplication;
let api: ReturnType<typeof client>;
beforeAll(async () => {
  ({ app } = await startApp(prefix, {}, { catalogFile: CATALOG, runbooks: RUNBOOKS, actions }));
  api = client(app);
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

interface IncidentBody {
  id: string;
  status: string;
  service: string;
  title: string;
  runs: Array<{ id: string; runbook: string; trigger: string; status: string; steps: Array<{ id: string; status: string; params?: Record<string, unknown> }> }>;
}
const incident = async (id: string) => (await api.get(`/incidents/${id}`).expect(200)).body as IncidentBody;

describe('POST /runbooks/:name/run', () => {
  it('opens an incident for a service with none open, runs the runbook there, and the run shows in GET /incidents/:id', async () => {
    const res = await api.post('/runbooks/manual-fix/run', { service: 'dry', by: 'alice@example.com', inputs: { target: 'dry-cache' } }).expect(201);
    expect(res.body).toEqual({ incidentId: expect.stringMatching(/^inc_/), runId: expect.stringMatching(/^run_/), incidentOpened: true });
    const { incidentId, runId } = res.body as { incidentId: string; runId: string };

    const run = await api.waitRun(incidentId, ['succeeded']);
    expect(run.id).toBe(runId);
    expect(await testCount(redis, prefix, 'calls-total', 'dry-cache')).toBe(1);
    const body = await incident(incidentId);
    expect(body).toMatchObject({ status: 'open', service: 'dry', title: 'Manual run of manual-fix by alice@example.com' });
    expect(body.runs).toEqual([
      expect.objectContaining({
        id: runId,
        runbook: 'manual-fix',
        trigger: 'manual:alice@example.com',
        status: 'succeeded',
        steps: [expect.objectContaining({ id: 'look', status: 'succeeded' }), expect.objectContaining({ id: 'change', status: 'succeeded', params: { target: 'dry-cache' } })],
      }),
    ]);
    const opened = (await api.timeline(incidentId)).find((e) => e.type === 'incident.opened');
    expect(opened?.data).toMatchObject({ manual: true, by: 'alice@example.com', service: 'dry' });

    // Listed and exported like any incident.
    const list = (await api.get('/incidents?status=open&service=dry').expect(200)).body as { items: Array<{ id: string }> };
    expect(list.items.map((i) => i.id)).toEqual([incidentId]);
    const md = await api.get(`/incidents/${incidentId}/rca.md`).expect(200);
    expect(md.text).toContain('| Incident opened for dry | alice\\@example.com |');
  });

  it('409 for a second run of the same runbook on that incident; another runbook joins the same incident', async () => {
    const first = (await api.get('/incidents?status=open&service=dry').expect(200)).body.items[0].id as string;
    const again = await api.post('/runbooks/manual-fix/run', { service: 'dry', by: 'bob@example.com' }).expect(409);
    expect(again.body).toMatchObject({ code: 'already_running', incidentId: first, message: expect.stringContaining(`incident ${first} already has a run of manual-fix`) });
    const other = await api.post('/runbooks/manual-look/run', { service: 'dry', by: 'bob@example.com' }).expect(201);
    expect(other.body).toMatchObject({ incidentId: first, incidentOpened: false });
    await api.waitStep(first, 'look', ['succeeded']);
    expect((await incident(first)).runs.map((r) => [r.runbook, r.trigger])).toEqual([
      ['manual-fix', 'manual:alice@example.com'],
      ['manual-look', 'manual:bob@example.com'],
    ]);
  });

  it('a manual incident is the service’s open one: its alarms attach to it and resolve it when back to OK', async () => {
    const manual = (await api.get('/incidents?status=open&service=dry').expect(200)).body.items[0].id as string;
    expect(await api.alarm('dry-5xx')).toBe(manual);
    await api.alarm('dry-5xx', 'OK', new Date(Date.now() + 1000));
    expect(await incident(manual)).toMatchObject({ status: 'resolved', alarms: [expect.objectContaining({ name: 'dry-5xx', state: 'OK' })] });
    // The next manual run opens a new incident.
    const next = await api.post('/runbooks/manual-look/run', { service: 'dry', by: 'alice@example.com' }).expect(201);
    expect(next.body.incidentId).not.toBe(manual);
    expect(next.body.incidentOpened).toBe(true);
  });

  it('attaches the run to an incident an alarm opened', async () => {
    const incidentId = await api.alarm('par-5xx');
    const res = await api.post('/runbooks/manual-look/run', { service: 'par', by: 'carol@example.com' }).expect(201);
    expect(res.body).toMatchObject({ incidentId, incidentOpened: false });
    const run = await api.waitRun(incidentId, ['succeeded']);
    expect(run.steps[0]).toMatchObject({ id: 'look', output: expect.objectContaining({ value: incidentId }) });
    expect((await incident(incidentId)).title).toBe('par-5xx');
  });

  it('404 naming an unknown runbook or service, 400 for a bad body or unknown inputs (and nothing is opened), 401 without the token', async () => {
    expect((await api.post('/runbooks/nope/run', { service: 'crash', by: 'alice' }).expect(404)).body.message).toBe('no runbook named "nope"');
    expect((await api.post('/runbooks/manual-fix/run', { service: 'nope', by: 'alice' }).expect(404)).body.message).toBe('no service named "nope" in the service catalog');
    expect((await api.post('/runbooks/manual-fix/run', { service: 'crash' }).expect(400)).body.message).toBe('bad body: by: is required');
    expect((await api.post('/runbooks/manual-fix/run', { service: 'crash', by: 'alice', inputs: [1] }).expect(400)).body.message).toMatch(/^bad body: inputs: expected an object of runbook inputs/);
    expect((await api.post('/runbooks/manual-fix/run', { service: 'crash', by: 'alice', input: {} }).expect(400)).body.message).toMatch(/^bad body: \(body\): Unrecognized key: "input"/);
    expect((await api.post('/runbooks/manual-fix/run', { service: 'crash', by: 'alice', inputs: { targett: 'x' } }).expect(400)).body.message).toBe(
      'bad inputs: unknown input "targett" for runbook "manual-fix" (inputs: target)',
    );
    await request(app.getHttpServer()).post('/runbooks/manual-fix/run').send({ service: 'crash', by: 'alice' }).expect(401);
    expect((await api.get('/incidents?service=crash').expect(200)).body.total).toBe(0);
  });
});
