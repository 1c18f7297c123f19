import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { API_TOKEN, INGEST_KEY, startApp } from '../support/app';
import { FIXTURES, alarmEvent } from '../support/events';
import { testRedis } from '../support/redis';

const { prefix, cleanup } = testRedis('http');
let app: INestApplication;
let logs: () => string;

beforeAll(async () => {
  ({ app, logs } = await startApp(prefix));
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

const post = (body: unknown, key: string | null = INGEST_KEY) => {
  const req = request(app.getHttpServer()).post('/events/eventbridge');
  return (key === null ? req : req.set('x-api-key', key)).send(body as object);
};
const api = (path: string) => request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${API_TOKEN}`);

describe('POST /events/eventbridge', () => {
  it('answers 202 with the incident id, then deduplicated: true for a second delivery', async () => {
    const event = alarmEvent({ alarmName: 'checkout-alb-5xx' });
    const first = await post(event).expect(202);
    expect(first.body).toEqual({ incidentId: expect.stringMatching(/^inc_/), deduplicated: false, outcome: 'opened' });
    const second = await post(event).expect(202);
    expect(second.body).toEqual({ incidentId: first.body.incidentId, deduplicated: true, outcome: 'duplicate' });

    const incident = await api(`/incidents/${first.body.incidentId}`).expect(200);
    expect(incident.body).toMatchObject({ service: 'checkout', status: 'open', routed: true, alarms: [{ name: 'checkout-alb-5xx', state: 'ALARM' }] });
    const timeline = await api(`/incidents/${first.body.incidentId}/timeline`).expect(200);
    expect((timeline.body.items as { type: string }[]).map((e) => e.type)).toEqual(['alarm.received', 'incident.opened', 'alarm.attached']);
  });

  it.each(readdirSync(join(FIXTURES, 'ok')))('accepts the fixture %s', async (file) => {
    await post(JSON.parse(readFileSync(join(FIXTURES, 'ok', file), 'utf8'))).expect(202);
  });

  it('refuses a request without the key, or with a wrong one, with 401 and never logs the key', async () => {
    const event = alarmEvent({ alarmName: 'checkout-alb-5xx' });
    await post(event, null).expect(401);
    const wrong = 'wrong-key-that-must-not-be-logged';
    const res = await post(event, wrong).expect(401);
    expect(res.body.message).toMatch(/x-api-key/);
    await post(event, INGEST_KEY.slice(0, -1)).expect(401);
    expect(logs()).toContain('wrong x-api-key');
    expect(logs()).toContain('no x-api-key header');
    expect(logs()).not.toContain(wrong);
    expect(logs()).not.toContain(INGEST_KEY);
  });

  describe.each(readdirSync(join(FIXTURES, 'bad')))('bad fixture %s', (file) => {
    it('gets 400 with the error it must produce', async () => {
      const { error, body } = JSON.parse(readFileSync(join(FIXTURES, 'bad', file), 'utf8'));
      const res = await request(app.getHttpServer())
        .post('/events/eventbridge')
        .set('x-api-key', INGEST_KEY)
        .set('content-type', 'application/json')
        .send(JSON.stringify(body))
        .expect(400);
      expect(res.body.message).toContain(error);
      expect(logs()).toContain(`event rejected: ${error}`.replace(/"/g, '\\"'));
    });
  });

  it('gets 400 for a JSON body that does not parse', async () => {
    const res = await post('{"version": "0", ').set('content-type', 'application/json').expect(400);
    expect(res.body.message).toMatch(/^body is not valid JSON/);
  });

  it('gets 415 for a body that is not declared JSON (after the key check), and counts it', async () => {
    const event = JSON.stringify(alarmEvent({ alarmName: 'checkout-alb-5xx' }));
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await post(event).set('content-type', type).expect(415);
      expect(res.body.message).toContain(`expected Content-Type: application/json, got "${type}"`);
    }
    const none = await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).expect(415);
    expect(none.body.message).toContain('got none');
    await post(event, null).set('content-type', 'text/plain').expect(401);
    await post(event).set('content-type', 'application/json; charset=utf-8').expect(202);
    const metrics = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/responder_events_rejected_total\{source="http",reason="unsupported_media_type"\} 4/);
  });

  describe.each(readdirSync(join(FIXTURES, 'ignored')))('an event of another type (%s)', (file) => {
    it('gets 202 ignored, opens nothing and is counted', async () => {
      const { outcome, body } = JSON.parse(readFileSync(join(FIXTURES, 'ignored', file), 'utf8'));
      const before = ((await api('/incidents?limit=1').expect(200)).body as { total: number }).total;
      const res = await post(body).expect(202);
      expect(res.body).toEqual({ incidentId: null, deduplicated: false, outcome });
      expect(((await api('/incidents?limit=1').expect(200)).body as { total: number }).total).toBe(before);
      const metrics = await request(app.getHttpServer()).get('/metrics').expect(200);
      expect(metrics.text).toMatch(/responder_events_ignored_total\{source="http"\} [1-9]/);
    });
  });

  it('gets 413 for a body over 256 KB', async () => {
    const event = alarmEvent({ alarmName: 'checkout-alb-5xx' });
    event.detail.state.reasonData = 'x'.repeat(256 * 1024);
    const res = await post(event).expect(413);
    expect(res.body.message).toMatch(/256 KB/);
  });

  it('opens an unrouted incident for an alarm no service claims, and counts it', async () => {
    const res = await post(alarmEvent({ alarmName: 'orphan-disk-full' })).expect(202);
    const incident = await api(`/incidents/${res.body.incidentId}`).expect(200);
    expect(incident.body).toMatchObject({ service: null, routed: false });
    const metrics = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/responder_unrouted_alarms_total \d+/);
    expect(metrics.text).toMatch(/responder_events_rejected_total\{source="http",reason="invalid"\} [1-9]/);
    expect(metrics.text).toMatch(/responder_events_rejected_total\{source="http",reason="too_large"\} 1/);
    expect(metrics.text).toMatch(/responder_events_deduplicated_total\{source="http",reason="event_id"\} 1/);
    expect(metrics.text).toMatch(/responder_intake_duration_seconds_bucket/);
  });

  it('resolves the incident when its alarm returns to OK', async () => {
    const t = Date.now() - 5000;
    const opened = await post(alarmEvent({ alarmName: 'payments-queue-age', at: new Date(t) })).expect(202);
    const ok = await post(alarmEvent({ alarmName: 'payments-queue-age', state: 'OK', at: new Date(t + 1000) })).expect(202);
    expect(ok.body).toEqual({ incidentId: opened.body.incidentId, deduplicated: false, outcome: 'resolved' });
    const resolved = await api('/incidents?service=payments&status=resolved').expect(200);
    expect((resolved.body.items as { id: string }[]).map((i) => i.id)).toContain(opened.body.incidentId);
  });
});

describe('the incidents API', () => {
  it('needs the bearer token', async () => {
    await request(app.getHttpServer()).get('/incidents').expect(401);
    await request(app.getHttpServer()).get('/incidents').set('Authorization', 'Bearer nope-nope-nope-nope').expect(401);
  });

  it('filters, pages and says what is wrong with a query', async () => {
    const page = await api('/incidents?status=open&limit=1').expect(200);
    expect(page.body).toMatchObject({ limit: 1, offset: 0, items: [expect.objectContaining({ status: 'open' })] });
    expect(page.body.total).toBeGreaterThan(1);
    expect(page.body.nextOffset).toBe(1);
    const bad = await api('/incidents?status=closed&limit=0').expect(400);
    expect(bad.body.message).toContain('status: expected one of "open"|"resolved", got "closed"');
    expect(bad.body.message).toContain('limit');
    await api('/incidents?colour=red').expect(400);
    await api('/incidents/inc_nope').expect(404);
    await api('/incidents/inc_nope/timeline').expect(404);
  });
});

describe('health', () => {
  it('is alive and ready with Redis up', async () => {
    await request(app.getHttpServer()).get('/health').expect(200, { status: 'ok' });
    await request(app.getHttpServer()).get('/ready').expect(200, { status: 'ready', redis: 'up', sqs: 'off' });
  });
});
