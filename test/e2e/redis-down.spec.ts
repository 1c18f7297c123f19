import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { startApp } from '../support/app';
import { INGEST_KEY } from '../support/app';
import { alarmEvent } from '../support/events';

// Nothing listens on port 1: the store is unreachable from the start.
let app: INestApplication;
beforeAll(async () => {
  ({ app } = await startApp('test:redis-down', { REDIS_URL: 'redis://127.0.0.1:1' }));
});
afterAll(() => app.close());

describe('with Redis down', () => {
  it('the intake answers 503 with Retry-After at once instead of queueing in memory', async () => {
    const res = await request(app.getHttpServer())
      .post('/events/eventbridge')
      .set('x-api-key', INGEST_KEY)
      .send(alarmEvent({ alarmName: 'checkout-alb-5xx' }))
      .expect(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.message).toMatch(/store \(Redis\) is unavailable/);
  });

  it('a malformed event is still a 400, not a 503', async () => {
    await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send({ nope: true }).expect(400);
  });

  it('is alive but not ready', async () => {
    await request(app.getHttpServer()).get('/health').expect(200);
    await request(app.getHttpServer()).get('/ready').expect(503);
  });
});
