import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import request from 'supertest';
import { API_TOKEN, INGEST_KEY, startApp } from '../support/app';
import { alarmEvent } from '../support/events';
import { testRedis } from '../support/redis';

const ROOT = join(__dirname, '..', '..');
const { prefix, cleanup } = testRedis('rca');
let app: INestApplication;
beforeAll(async () => {
  ({ app } = await startApp(prefix));
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

const SECRET = 'xoxb-1111-2222-plantedsecret';

describe('RCA export', () => {
  it('the API and the CLI return the same markdown draft, with no secret in it', async () => {
    const t = Date.now() - 10 * 60_000;
    const event = alarmEvent({ alarmName: 'checkout-alb-5xx', at: new Date(t), reason: `Threshold Crossed (token ${SECRET})` });
    const opened = await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(event).expect(202);
    const id = opened.body.incidentId as string;
    await request(app.getHttpServer())
      .post('/events/eventbridge')
      .set('x-api-key', INGEST_KEY)
      .send(alarmEvent({ alarmName: 'checkout-alb-5xx', state: 'OK', at: new Date(t + 7 * 60_000) }))
      .expect(202);

    const api = await request(app.getHttpServer()).get(`/incidents/${id}/rca.md`).set('Authorization', `Bearer ${API_TOKEN}`).expect(200);
    expect(api.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(api.text).toMatch(/^# RCA: checkout/);
    expect(api.text).toContain('checkout-alb-5xx');
    expect(api.text).not.toContain(SECRET);

    const file = join(mkdtempSync(join(tmpdir(), 'rca-')), 'rca.md');
    // the built command line (npm test builds it first), as it runs in the image
    const cli = spawnSync(join(ROOT, 'bin', 'responder'), ['rca', id, '-o', file], {
      cwd: ROOT,
      env: { ...process.env, REDIS_PREFIX: prefix },
      encoding: 'utf8',
    });
    expect(cli.stderr.replace(/.*NodeVersionSupportWarning[\s\S]*?trace-warnings[^\n]*\n/, '')).toBe('');
    expect(cli.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(api.text);

    const json = spawnSync(join(ROOT, 'bin', 'responder'), ['rca', id, '--json'], { cwd: ROOT, env: { ...process.env, REDIS_PREFIX: prefix }, encoding: 'utf8' });
    expect(json.status).toBe(0);
    const apiJson = await request(app.getHttpServer()).get(`/incidents/${id}/rca.json`).set('Authorization', `Bearer ${API_TOKEN}`).expect(200);
    // the same model, built a moment later: only "now"-relative fields may differ
    expect(Object.keys(JSON.parse(json.stdout) as object)).toEqual(Object.keys(apiJson.body as object));
    expect((JSON.parse(json.stdout) as { title: unknown }).title).toEqual((apiJson.body as { title: unknown }).title);
  });

  it('404 for an unknown incident, 401 without the token; the CLI says so with exit 1', async () => {
    await request(app.getHttpServer()).get('/incidents/inc_nope/rca.md').set('Authorization', `Bearer ${API_TOKEN}`).expect(404);
    await request(app.getHttpServer()).get('/incidents/inc_nope/rca.md').expect(401);
    const cli = spawnSync(join(ROOT, 'bin', 'responder'), ['rca', 'inc_nope'], {
      cwd: ROOT,
      env: { ...process.env, REDIS_PREFIX: prefix },
      encoding: 'utf8',
    });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('no incident inc_nope');
  });
});

/** What a reader sees of markdown text: escapes and autolink brackets removed. */
const unmarkdown = (md: string) => md.replace(/(?<!\\)<(https?:\/\/[^>]+)>/g, '$1').replace(/\\([\\`*_[\]<>#|~@])/g, '$1');
const auth = { Authorization: `Bearer ${API_TOKEN}` };

async function resolvedIncident(alarmName: string): Promise<string> {
  const t = Date.now() - 5 * 60_000;
  const opened = await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(alarmEvent({ alarmName, at: new Date(t) })).expect(202);
  await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(alarmEvent({ alarmName, state: 'OK', at: new Date(t + 60_000) })).expect(202);
  return opened.body.incidentId as string;
}

describe('RCA as JSON', () => {
  it('GET /incidents/:id/rca.json is the same RCA as rca.md, as data', async () => {
    const id = await resolvedIncident('checkout-down');
    await request(app.getHttpServer()).post(`/incidents/${id}/notes`).set(auth).send({ author: 'alice@example.com', text: `rolled back by hand | see https://wiki.example.com/runbook (token ${SECRET})` }).expect(201);
    const json = await request(app.getHttpServer()).get(`/incidents/${id}/rca.json`).set(auth).expect(200);
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    const md = await request(app.getHttpServer()).get(`/incidents/${id}/rca.md`).set(auth).expect(200);
    const model = json.body as { incidentId: string; title: { text: string }; draft: boolean; status: string; timeline: Array<{ event: string; actor: string }>; notes: Array<{ by: string; text: string }> };
    expect(model).toMatchObject({ incidentId: id, draft: true, status: 'resolved', notes: [{ by: 'alice@example.com', source: 'api' }] });
    const shown = unmarkdown(md.text);
    expect(shown).toContain(`# ${model.title.text}`);
    expect(model.timeline.map((r) => r.event)).toEqual(expect.arrayContaining(['Incident opened for checkout', 'Incident resolved: its alarms are back to OK']));
    for (const row of model.timeline) expect(shown).toContain(`| ${row.event.replace(/\s+/g, ' ').trim()} | ${row.actor} |`);
    expect(json.text).not.toContain(SECRET);
  });

  it('404 for an unknown incident, 401 without the token', async () => {
    const missing = await request(app.getHttpServer()).get('/incidents/inc_nope/rca.json').set(auth).expect(404);
    expect(missing.body.message).toBe('no incident inc_nope');
    await request(app.getHttpServer()).get('/incidents/inc_nope/rca.json').expect(401);
  });
});

describe('notes from humans', () => {
  it('adds a note to the timeline (201 with the entry), shown in the RCA with its author', async () => {
    const id = await resolvedIncident('checkout-latency');
    const res = await request(app.getHttpServer()).post(`/incidents/${id}/notes`).set(auth).send({ author: 'bob@example.com', text: '  customers saw 502s on /pay  ' }).expect(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^\d+-\d+$/),
      at: expect.stringMatching(/Z$/),
      type: 'note',
      data: { author: 'bob@example.com', by: 'bob@example.com', text: 'customers saw 502s on /pay', source: 'api' },
    });
    const timeline = await request(app.getHttpServer()).get(`/incidents/${id}/timeline`).set(auth).expect(200);
    expect((timeline.body as { items: unknown[] }).items.at(-1)).toEqual(res.body);
    const md = await request(app.getHttpServer()).get(`/incidents/${id}/rca.md`).set(auth).expect(200);
    expect(md.text).toMatch(/\| Note: customers saw 502s on \/pay \| bob\\@example.com \|/);
  });

  it('404 for an unknown incident (nothing is written), 400 naming the field, 401 without the token', async () => {
    const missing = await request(app.getHttpServer()).post('/incidents/inc_nope/notes').set(auth).send({ author: 'a', text: 'b' }).expect(404);
    expect(missing.body.message).toBe('no incident inc_nope');
    const redis = new Redis(process.env.REDIS_URL!);
    try {
      expect(await redis.exists(`${prefix}:incident:inc_nope:timeline`)).toBe(0);
    } finally {
      await redis.quit();
    }
    const id = await resolvedIncident('checkout-errors');
    const bad = async (body: object, message: string) =>
      expect((await request(app.getHttpServer()).post(`/incidents/${id}/notes`).set(auth).send(body).expect(400)).body.message).toBe(message);
    await bad({ author: 'a' }, 'bad body: text: is required');
    await bad({ author: 'a', text: '   ' }, 'bad body: text: expected 1 to 4000 characters');
    await bad({ author: 'a', text: 'x'.repeat(4001) }, 'bad body: text: expected 1 to 4000 characters');
    await bad({ author: 'a', text: 42 }, 'bad body: text: expected string, received number');
    await bad({ text: 'hello' }, 'bad body: author: is required');
    await request(app.getHttpServer()).post(`/incidents/${id}/notes`).send({ author: 'a', text: 'b' }).expect(401);
    const items = (await request(app.getHttpServer()).get(`/incidents/${id}/timeline`).set(auth).expect(200)).body.items as Array<{ type: string }>;
    expect(items.filter((e) => e.type === 'note')).toEqual([]);
  });
});
