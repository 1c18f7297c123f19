import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { API_TOKEN, startApp } from '../support/app';
import { eventually } from '../support/engine';
import { alarmEvent } from '../support/events';
import { type EventBridgeToSqs, eventBridgeToSqs } from '../support/moto';
import { testRedis } from '../support/redis';

const MOTO_URL = process.env.MOTO_URL!;
const { prefix, cleanup } = testRedis('sqs');
let queue: EventBridgeToSqs;
let app: INestApplication;
let logs: () => string;

beforeAll(async () => {
  queue = await eventBridgeToSqs(MOTO_URL, 'intake', { visibilityTimeoutSeconds: 1, deadLetter: { maxReceiveCount: 2 } });
  // The service's own SQS client finds moto through the SDK's standard variable, as in a sandbox.
  process.env.AWS_ENDPOINT_URL = MOTO_URL;
  ({ app, logs } = await startApp(prefix, { SQS_QUEUE_URL: queue.queueUrl, SQS_WAIT_SECONDS: '1' }));
});
afterAll(async () => {
  await app?.close();
  delete process.env.AWS_ENDPOINT_URL;
  queue?.close();
  await cleanup();
});

const api = (path: string) => request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${API_TOKEN}`);

async function messagesLeft(queueUrl: string): Promise<number> {
  const { Attributes } = await queue.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

describe('SQS intake (EventBridge rule → SQS → Responder)', () => {
  it('reports the poller as running', async () => {
    await api('/ready').expect(200, { status: 'ready', redis: 'up', sqs: 'polling' });
  });

  it('turns an event put on EventBridge into an incident and deletes the message', async () => {
    const eventId = await queue.putAlarmEvent(alarmEvent({ alarmName: 'checkout-sqs-latency' }));
    const incident = await eventually('the incident', async () => {
      const res = await api('/incidents?service=checkout&status=open').expect(200);
      return (res.body.items as { id: string; alarms: { name: string }[] }[]).find((i) => i.alarms.some((a) => a.name === 'checkout-sqs-latency'));
    });
    const timeline = await api(`/incidents/${incident.id}/timeline`).expect(200);
    expect(timeline.body.items[0]).toMatchObject({ type: 'alarm.received', data: { eventId, source: 'sqs' } });
    await eventually('the message to be deleted', async () => ((await messagesLeft(queue.queueUrl)) === 0 ? true : undefined));
  });

  it('leaves malformed messages for the dead-letter queue, logged with their message id; deletes events of another type', async () => {
    const notJson = await queue.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: 'this is not json' }));
    const notAlarm = await queue.sqs.send(
      new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: JSON.stringify({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: {} }) }),
    );
    // A broad rule's other events are not failures: answered "ignored" and deleted, never dead-lettered.
    await queue.sqs.send(
      new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: JSON.stringify({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification' }) }),
    );
    // Received maxReceiveCount (2) times, one visibility timeout apart, then moved by SQS itself.
    const moved = await eventually(
      'both messages in the dead-letter queue',
      async () => {
        const out = await queue.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.deadLetterQueueUrl!, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        return (out.Messages?.length ?? 0) > 0 ? out.Messages : undefined;
      },
      20_000,
    ).then(async (first) => {
      const all = [...first];
      while (all.length < 2) {
        const out = await queue.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.deadLetterQueueUrl!, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
        all.push(...(out.Messages ?? []));
      }
      return all;
    });
    expect(moved.map((m) => m.MessageId).sort()).toEqual([notJson.MessageId, notAlarm.MessageId].sort());
    expect(logs()).toContain(notJson.MessageId!);
    expect(logs()).toContain(notAlarm.MessageId!);
    expect(logs()).toContain('SQS message is not JSON');
    expect(logs()).toContain('not a CloudWatch alarm event (version: is required');
    const metrics = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/responder_events_rejected_total\{source="sqs",reason="malformed_json"\} [1-9]/);
    expect(metrics.text).toMatch(/responder_events_ignored_total\{source="sqs"\} 1/);
  });

  it('stops polling promptly on shutdown', async () => {
    const closing = app.close();
    const timeout = new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 5_000).unref());
    expect(await Promise.race([closing.then(() => 'closed' as const), timeout])).toBe('closed');
    app = undefined as unknown as INestApplication;
  });
});
