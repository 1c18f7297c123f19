import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import request from 'supertest';
import { FIXTURES, alarmEvent } from '../support/events';
import { INGEST_KEY, startApp } from '../support/app';
import { client, eventually } from '../support/engine';
import { OwnRedisServer } from '../support/redis-server';
import { createTestActions } from '../support/test-actions';

// Redis paused (SIGSTOP) for 10 s: a server of this file's own, so that nothing else stalls.
const CATALOG = join(FIXTURES, 'catalog', 'engine.yaml');
const prefix = 'test:stall';
const STALL_MS = 10_000;
const RUNBOOKS = [
  `
name: stalled
triggers: { services: [stall] }
steps:
  - { id: look, action: test.diagnose, with: { value: 1 } }
  - { id: change, action: test.mutate, needs: [look], with: { target: "\${{ incident.id }}" }, approval: none }
`,
];

let server: OwnRedisServer;
let redis: Redis;
let app: INestApplication;
beforeAll(async () => {
  server = await OwnRedisServer.start();
  redis = new Redis(server.url);
  ({ app } = await startApp(prefix, { REDIS_URL: server.url }, { catalogFile: CATALOG, runbooks: RUNBOOKS, actions: createTestActions(redis, prefix) }));
}, 30_000);
afterAll(async () => {
  if (server.paused) server.resume();
  await app.close();
  redis.disconnect();
  await server.stop();
});

describe('with Redis paused', () => {
  it('the intake and /ready answer 503 while it stalls, and the engine carries on afterwards', async () => {
    const http = app.getHttpServer();
    const api = client(app);
    await request(http).get('/ready').expect(200);
    const before = await api.alarm('stall-5xx');
    await api.waitRun(before, ['succeeded'], 20_000);
    await api.alarm('stall-5xx', 'OK', new Date(Date.now() + 1000));

    const event = alarmEvent({ alarmName: 'stall-latency', at: new Date(Date.now() + 2000) });
    server.pause();
    const resumed = new Promise<void>((resolve) =>
      setTimeout(() => {
        server.resume();
        resolve();
      }, STALL_MS),
    );
    try {
      const intake = await request(http).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(event);
      const intakeDuringStall = server.paused;
      const ready = await request(http).get('/ready');
      const readyDuringStall = server.paused;
      const health = await request(http).get('/health');

      expect(intake.status).toBe(503);
      expect(intake.headers['retry-after']).toBe('5');
      expect(intakeDuringStall).toBe(true);
      expect(ready.status).toBe(503);
      expect(readyDuringStall).toBe(true);
      expect(health.status).toBe(200);
    } finally {
      await resumed;
    }

    await eventually('/ready', async () => ((await request(http).get('/ready')).status === 200 ? true : undefined), 15_000);
    // EventBridge delivers the refused event again: its run starts and finishes on the same workers.
    const again = await request(http).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(event).expect(202);
    const incidentId = (again.body as { incidentId: string }).incidentId;
    expect(incidentId).not.toBe(before);
    const run = await api.waitRun(incidentId, ['succeeded'], 30_000);
    expect(run.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
  }, 90_000);
});
