import { randomBytes } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ECSClient } from '@aws-sdk/client-ecs';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';

/** The rule a deployment puts in front of the intake queue. */
export const ALARM_EVENT_PATTERN = { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'] };

/**
 * moto 5.2.1 drops `account` from the event it sends to an SQS target (its default input template
 * has no <account>), and Responder's parser requires it. This transformer rebuilds the envelope
 * real EventBridge delivers. `detail` comes last: moto fills the template by plain string
 * replacement, so a <token> inside the detail would otherwise be replaced too.
 */
const AWS_ENVELOPE = {
  InputPathsMap: {
    id: '$.id',
    'detail-type': '$.detail-type',
    source: '$.source',
    account: '$.account',
    time: '$.time',
    region: '$.region',
    resources: '$.resources',
    detail: '$.detail',
  },
  InputTemplate:
    '{"version":"0","id":"<id>","detail-type":"<detail-type>","source":"<source>","account":"<account>",' +
    '"time":"<time>","region":"<region>","resources":<resources>,"detail":<detail>}',
};

export interface QueueOptions {
  /** Seconds a received message stays invisible. SQS default 30. */
  visibilityTimeoutSeconds?: number;
  /** Creates a dead-letter queue and a RedrivePolicy pointing at it. */
  deadLetter?: { maxReceiveCount: number };
}

export interface TestQueue {
  queueUrl: string;
  queueArn: string;
  deadLetterQueueUrl: string | null;
  deadLetterQueueArn: string | null;
}

export interface EventBridgeToSqsOptions extends QueueOptions {
  /**
   * 'aws' (default): the target rebuilds the envelope real EventBridge sends (see AWS_ENVELOPE).
   * 'moto': moto's own default body, which lacks `account`.
   */
  envelope?: 'aws' | 'moto';
}

export interface EventBridgeToSqs extends TestQueue {
  /** PutEvents of a full EventBridge alarm event (a fixture); resolves to the new event id, the body's `id`. */
  putAlarmEvent(event: Record<string, unknown>): Promise<string>;
  sqs: SQSClient;
  close(): void;
}

/** SDK clients for moto_server; region and credentials come from the environment (test/support/env.ts). */
export function motoSqs(motoUrl: string): SQSClient {
  return new SQSClient({ endpoint: motoUrl });
}

export function motoEventBridge(motoUrl: string): EventBridgeClient {
  return new EventBridgeClient({ endpoint: motoUrl });
}

/** A unique, valid SQS / EventBridge name: every test file shares one moto_server. */
export function uniqueName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 50)}-${randomBytes(4).toString('hex')}`;
}

export async function createQueue(sqs: SQSClient, name: string, options: QueueOptions = {}): Promise<TestQueue> {
  let deadLetterQueueUrl: string | null = null;
  let deadLetterQueueArn: string | null = null;
  const attributes: Record<string, string> = {};
  if (options.visibilityTimeoutSeconds !== undefined) attributes.VisibilityTimeout = String(options.visibilityTimeoutSeconds);
  if (options.deadLetter) {
    deadLetterQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
    deadLetterQueueArn = await queueArnOf(sqs, deadLetterQueueUrl);
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: deadLetterQueueArn,
      maxReceiveCount: options.deadLetter.maxReceiveCount,
    });
  }
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
  return { queueUrl, queueArn: await queueArnOf(sqs, queueUrl), deadLetterQueueUrl, deadLetterQueueArn };
}

/**
 * An SQS queue fed by an EventBridge rule for CloudWatch alarm state changes, as in production.
 * The rule sits on an event bus of its own: on the shared default bus every test's rule would
 * match every test's alarm events, and their queues would receive each other's messages.
 */
export async function eventBridgeToSqs(motoUrl: string, name: string, options: EventBridgeToSqsOptions = {}): Promise<EventBridgeToSqs> {
  const base = uniqueName(name);
  const sqs = motoSqs(motoUrl);
  const events = motoEventBridge(motoUrl);
  try {
    const queue = await createQueue(sqs, base, options);
    await events.send(new CreateEventBusCommand({ Name: base }));
    await events.send(new PutRuleCommand({ Name: base, EventBusName: base, EventPattern: JSON.stringify(ALARM_EVENT_PATTERN) }));
    await events.send(
      new PutTargetsCommand({
        Rule: base,
        EventBusName: base,
        Targets: [{ Id: 'intake', Arn: queue.queueArn, ...(options.envelope === 'moto' ? {} : { InputTransformer: AWS_ENVELOPE }) }],
      }),
    );
    return {
      ...queue,
      sqs,
      putAlarmEvent: async (event) => {
        const out = await events.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: base,
                Source: event.source as string,
                DetailType: event['detail-type'] as string,
                Detail: JSON.stringify(event.detail),
                Resources: event.resources as string[] | undefined,
                Time: typeof event.time === 'string' ? new Date(event.time) : undefined,
              },
            ],
          }),
        );
        const entry = out.Entries?.[0];
        if (out.FailedEntryCount || !entry?.EventId) throw new Error(`PutEvents failed: ${entry?.ErrorCode} ${entry?.ErrorMessage}`);
        return entry.EventId;
      },
      close: () => {
        sqs.destroy();
        events.destroy();
      },
    };
  } catch (error) {
    sqs.destroy();
    events.destroy();
    throw error;
  }
}

async function queueArnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return out.Attributes!.QueueArn!;
}

/**
 * An ECS client on moto that counts the commands it sends (`sent('UpdateServiceCommand')`): a test
 * checks that a mutating action did not call, not only that its output says so.
 */
export function countingEcsClient(motoUrl: string): { client: ECSClient; sent(command: string): number; reset(): void } {
  const counts = new Map<string, number>();
  const client = new ECSClient({ endpoint: motoUrl });
  client.middlewareStack.add(
    (next, context) => (args) => {
      counts.set(context.commandName ?? '', (counts.get(context.commandName ?? '') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, sent: (command) => counts.get(command) ?? 0, reset: () => counts.clear() };
}
