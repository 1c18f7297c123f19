import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
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
    const cli = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['apps/cli/src/main.ts', 'rca', id, '-o', file], {
      cwd: ROOT,
      env: { ...process.env, REDIS_PREFIX: prefix },
      encoding: 'utf8',
    });
    expect(cli.stderr.replace(/.*NodeVersionSupportWarning[\s\S]*?trace-warnings[^\n]*\n/, '')).toBe('');
    expect(cli.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(api.text);
  });

  it('404 for an unknown incident, 401 without the token; the CLI says so with exit 1', async () => {
    await request(app.getHttpServer()).get('/incidents/inc_nope/rca.md').set('Authorization', `Bearer ${API_TOKEN}`).expect(404);
    await request(app.getHttpServer()).get('/incidents/inc_nope/rca.md').expect(401);
    const cli = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['apps/cli/src/main.ts', 'rca', 'inc_nope'], {
      cwd: ROOT,
      env: { ...process.env, REDIS_PREFIX: prefix },
      encoding: 'utf8',
    });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('no incident inc_nope');
  });
});
