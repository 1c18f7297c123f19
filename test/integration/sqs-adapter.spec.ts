import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseAlarmEvent } from '@responder/domain';
import { isAbortError, regionOfQueueUrl, SqsAdapter } from '@responder/aws';
import { FIXTURES } from '../support/events';
import { createQueue, eventBridgeToSqs, motoSqs, uniqueName, type TestQueue } from '../support/moto';

const MOTO_URL = process.env.MOTO_URL!;
const sqs = motoSqs(MOTO_URL);
const adapters: SqsAdapter[] = [];
afterAll(() => {
  adapters.forEach((a) => a.close());
  sqs.destroy();
});

/** An adapter on moto; it owns (and closes) its client, as in production. */
function adapterFor(queueUrl: string): SqsAdapter {
  const adapter = new SqsAdapter({ queueUrl, client: motoSqs(MOTO_URL) });
  adapters.push(adapter);
  return adapter;
}

async function queueWithMessage(name: string, body: string, visibilityTimeoutSeconds = 1): Promise<TestQueue> {
  const queue = await createQueue(sqs, uniqueName(name), { visibilityTimeoutSeconds });
  await sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: body }));
  return queue;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
interface AlarmFixture extends Record<string, unknown> {
  id: string;
  time: string;
  resources: string[];
  detail: Record<string, unknown>;
}
const metricAlarm = () => JSON.parse(readFileSync(join(FIXTURES, 'ok', 'metric-alarm.json'), 'utf8')) as AlarmFixture;

describe('SqsAdapter against moto_server', () => {
  it('receives the body with receiveCount 1, hides it while in flight, and counts the redelivery after the visibility timeout', async () => {
    const queue = await queueWithMessage('receive', '{"hello":"world"}');
    const adapter = adapterFor(queue.queueUrl);

    const [first, ...rest] = await adapter.receive({ maxMessages: 10, waitSeconds: 1 });
    expect(rest).toEqual([]);
    expect(first).toEqual({ messageId: expect.any(String), receiptHandle: expect.any(String), body: '{"hello":"world"}', receiveCount: 1 });
    expect(await adapter.receive({ waitSeconds: 0 })).toEqual([]);

    await sleep(1_200);
    const [again] = await adapter.receive({ waitSeconds: 2 });
    expect(again).toMatchObject({ messageId: first.messageId, body: first.body, receiveCount: 2 });
  });

  it('delete removes the message: it is not redelivered after the visibility timeout', async () => {
    const queue = await queueWithMessage('delete', 'gone soon');
    const adapter = adapterFor(queue.queueUrl);

    const [message] = await adapter.receive({ waitSeconds: 1 });
    expect(message.body).toBe('gone soon');
    await adapter.delete(message.receiptHandle);

    await sleep(1_200);
    expect(await adapter.receive({ waitSeconds: 1 })).toEqual([]);
  });

  it('reads the redrive policy of a queue with a dead-letter queue', async () => {
    const queue = await createQueue(sqs, uniqueName('redrive'), { deadLetter: { maxReceiveCount: 4 } });
    expect(await adapterFor(queue.queueUrl).redrivePolicy()).toEqual({ deadLetterTargetArn: queue.deadLetterQueueArn, maxReceiveCount: 4 });
  });

  it('returns null as the redrive policy of a queue without a dead-letter queue', async () => {
    const queue = await createQueue(sqs, uniqueName('no-redrive'));
    expect(await adapterFor(queue.queueUrl).redrivePolicy()).toBeNull();
  });

  it('rejects with an abort error when the signal fires during a 20 s long poll', async () => {
    const queue = await createQueue(sqs, uniqueName('abort'));
    const adapter = adapterFor(queue.queueUrl);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);

    const error: unknown = await adapter.receive({ waitSeconds: 20, abortSignal: controller.signal }).then(
      () => new Error('receive resolved'),
      (e: unknown) => e,
    );
    expect(isAbortError(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('rejects at once with an abort error when the signal has already fired', async () => {
    const queue = await createQueue(sqs, uniqueName('aborted'));
    const error: unknown = await adapterFor(queue.queueUrl)
      .receive({ waitSeconds: 20, abortSignal: AbortSignal.abort() })
      .then(
        () => new Error('receive resolved'),
        (e: unknown) => e,
      );
    expect(isAbortError(error)).toBe(true);
  });

  it('reaches the endpoint in AWS_ENDPOINT_URL with no endpoint configured in code', async () => {
    const queue = await queueWithMessage('endpoint-env', 'via AWS_ENDPOINT_URL');
    const previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = MOTO_URL;
    const adapter = new SqsAdapter({ queueUrl: queue.queueUrl });
    try {
      const [message] = await adapter.receive({ waitSeconds: 1 });
      expect(message.body).toBe('via AWS_ENDPOINT_URL');
    } finally {
      adapter.close();
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previous;
    }
  });

  it('moto delivers an EventBridge alarm event to the SQS target rule', async () => {
    // moto's own body, no input transformer: what moto 5.2.1 really sends.
    const bridge = await eventBridgeToSqs(MOTO_URL, 'eb-moto', { envelope: 'moto' });
    try {
      const fixture = metricAlarm();
      const eventId = await bridge.putAlarmEvent(fixture);
      const [message] = await adapterFor(bridge.queueUrl).receive({ waitSeconds: 2 });
      const body = JSON.parse(message.body);

      expect(Object.keys(body).sort()).toEqual(['detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']);
      expect(body).toEqual({
        version: '0',
        id: eventId, // a fresh PutEvents EventId: the fixture's id is not an input of PutEvents
        'detail-type': 'CloudWatch Alarm State Change',
        source: 'aws.cloudwatch',
        time: '2026-11-20T17:04:40Z',
        region: 'us-east-1',
        resources: fixture.resources,
        detail: fixture.detail,
      });
      expect(eventId).not.toBe(fixture.id);
      expect(body).not.toHaveProperty('account'); // real EventBridge sends it; moto 5.2.1 does not
    } finally {
      bridge.close();
    }
  });

  it('the helper’s target rebuilds the full EventBridge envelope, which the alarm parser accepts', async () => {
    const bridge = await eventBridgeToSqs(MOTO_URL, 'eb-aws', { deadLetter: { maxReceiveCount: 3 }, visibilityTimeoutSeconds: 5 });
    try {
      const fixture = metricAlarm();
      fixture.time = '2026-11-20T17:04:40.750Z'; // EventBridge keeps whole seconds
      const eventId = await bridge.putAlarmEvent(fixture);
      const adapter = adapterFor(bridge.queueUrl);
      const [message] = await adapter.receive({ waitSeconds: 2 });
      const body = JSON.parse(message.body);

      expect(body).toEqual({ ...fixture, id: eventId, time: '2026-11-20T17:04:40Z', account: '123456789012' });
      const parsed = parseAlarmEvent(body);
      expect(parsed.ok && parsed.value).toMatchObject({ eventId, alarmName: 'checkout-alb-5xx', state: 'ALARM', account: '123456789012' });
      expect(await adapter.redrivePolicy()).toEqual({ deadLetterTargetArn: bridge.deadLetterQueueArn, maxReceiveCount: 3 });
    } finally {
      bridge.close();
    }
  });

  it('keeps each helper queue to its own alarm events', async () => {
    const [a, b] = await Promise.all([eventBridgeToSqs(MOTO_URL, 'iso-a'), eventBridgeToSqs(MOTO_URL, 'iso-b')]);
    try {
      await a.putAlarmEvent(metricAlarm());
      expect(await adapterFor(a.queueUrl).receive({ waitSeconds: 2 })).toHaveLength(1);
      expect(await adapterFor(b.queueUrl).receive({ waitSeconds: 0 })).toEqual([]);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('regionOfQueueUrl', () => {
  it.each([
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/intake', 'eu-west-1'],
    ['https://sqs.cn-north-1.amazonaws.com.cn/123456789012/intake', 'cn-north-1'],
    ['https://us-east-2.queue.amazonaws.com/123456789012/intake', 'us-east-2'],
    ['http://127.0.0.1:5000/123456789012/intake', undefined],
    ['not a url', undefined],
  ])('%s → %s', (url, region) => {
    expect(regionOfQueueUrl(url)).toBe(region);
  });

  it('gives a queue URL’s region to the client the adapter builds', async () => {
    const adapter = new SqsAdapter({ queueUrl: 'https://sqs.ap-southeast-2.amazonaws.com/123456789012/intake' });
    const client = (adapter as unknown as { client: SQSClient }).client;
    expect(await client.config.region()).toBe('ap-southeast-2');
    adapter.close();
  });
});
