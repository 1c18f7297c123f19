import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  MessageSystemAttributeName,
  QueueAttributeName,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';

/** One message taken from the queue; it stays invisible to others until its visibility timeout ends. */
export interface QueueMessage {
  messageId: string;
  /** Needed to delete the message; valid for this receive only. */
  receiptHandle: string;
  body: string;
  /** How many times the queue has handed this message out, this time included (1 on first delivery). */
  receiveCount: number;
}

export interface ReceiveOptions {
  /** 1 to 10 (an SQS limit). Default 10. */
  maxMessages?: number;
  /** Long-poll wait, 0 to 20 seconds (an SQS limit). Default 20. */
  waitSeconds?: number;
  /** Aborting it interrupts a long poll in flight: `receive` then rejects with an error `isAbortError` accepts. */
  abortSignal?: AbortSignal;
}

/** Where messages go after `maxReceiveCount` failed receives. */
export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

export interface SqsAdapterOptions {
  queueUrl: string;
  /** Default: the region in the queue URL, else the SDK's own chain (AWS_REGION, profile). */
  region?: string;
  /** A ready client (tests, shared configuration). The adapter owns it from then on: `close()` destroys it. */
  client?: SQSClient;
}

/**
 * One SQS queue behind domain-named methods; no SDK type leaves this file.
 *
 * Credentials come from the SDK's default provider chain. No endpoint is set here, so
 * AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_SQS (moto, LocalStack) apply without code.
 */
export class SqsAdapter {
  readonly queueUrl: string;
  private readonly client: SQSClient;

  constructor(options: SqsAdapterOptions) {
    this.queueUrl = options.queueUrl;
    this.client = options.client ?? new SQSClient({ region: options.region ?? regionOfQueueUrl(options.queueUrl) });
  }

  async receive(options: ReceiveOptions = {}): Promise<QueueMessage[]> {
    const { maxMessages = 10, waitSeconds = 20, abortSignal } = options;
    const out = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: maxMessages,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: [MessageSystemAttributeName.ApproximateReceiveCount],
      }),
      { abortSignal },
    );
    return (out.Messages ?? []).map((m) => {
      if (!m.MessageId || !m.ReceiptHandle) throw new Error(`SQS returned a message without id or receipt handle from ${this.queueUrl}`);
      return {
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body ?? '',
        // Asked for above, so always present; 1 is the honest floor if a stand-in omits it.
        receiveCount: Number(m.Attributes?.[MessageSystemAttributeName.ApproximateReceiveCount] ?? 1),
      };
    });
  }

  async delete(receiptHandle: string): Promise<void> {
    await this.client.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle }));
  }

  /** The queue's dead-letter configuration, or null when it has none. */
  async redrivePolicy(): Promise<RedrivePolicy | null> {
    const out = await this.client.send(
      new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: [QueueAttributeName.RedrivePolicy] }),
    );
    const raw = out.Attributes?.[QueueAttributeName.RedrivePolicy];
    if (!raw) return null;
    return parseRedrivePolicy(raw, this.queueUrl);
  }

  close(): void {
    this.client.destroy();
  }
}

/** True for the rejection of a call whose abort signal fired (shutdown), as opposed to a failure. */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** `https://sqs.eu-west-1.amazonaws.com/123456789012/q` (or the legacy `eu-west-1.queue.amazonaws.com`) → `eu-west-1`. */
export function regionOfQueueUrl(queueUrl: string): string | undefined {
  let host: string;
  try {
    host = new URL(queueUrl).hostname;
  } catch {
    return undefined;
  }
  const match = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host) ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com(\.cn)?$/.exec(host);
  return match?.[1];
}

function parseRedrivePolicy(raw: string, queueUrl: string): RedrivePolicy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`RedrivePolicy of ${queueUrl} is not JSON`);
  }
  const policy = parsed as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | null;
  // SQS has returned maxReceiveCount both as a number and as a string, depending on how it was set.
  const maxReceiveCount = Number(policy?.maxReceiveCount);
  if (typeof policy?.deadLetterTargetArn !== 'string' || !Number.isInteger(maxReceiveCount) || maxReceiveCount < 1) {
    throw new Error(`RedrivePolicy of ${queueUrl} lacks deadLetterTargetArn or a positive maxReceiveCount`);
  }
  return { deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount };
}
