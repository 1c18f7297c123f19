import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { toActionError } from './errors';
import { clientRegion } from './region';

/** Attempts per call, the first included. LookupEvents allows 2 requests a second per account and region: the SDK's backoff absorbs short bursts. */
export const CLOUDTRAIL_MAX_ATTEMPTS = 6;
/** LookupEvents returns at most 50 events a page. */
export const CLOUDTRAIL_PAGE_SIZE = 50;

export type TrailLookupKey = 'ReadOnly' | 'ResourceName' | 'ResourceType' | 'EventSource' | 'EventName' | 'Username' | 'EventId' | 'AccessKeyId';

/** Who made a call, from the record's `userIdentity` (only what a diagnosis reads). */
export interface TrailIdentity {
  /** IAMUser, AssumedRole, Root, AWSService, FederatedUser, IdentityCenterUser, … */
  type: string | null;
  arn: string | null;
  principalId: string | null;
  userName: string | null;
  /** For an assumed role: the role it came from (its name and ARN). */
  sessionIssuer: { type: string | null; userName: string | null; arn: string | null } | null;
  /** The AWS service that made the call on someone's behalf (`ecs.amazonaws.com`). */
  invokedBy: string | null;
}

/** One management event as LookupEvents returns it, with its CloudTrail record parsed. */
export interface TrailEvent {
  eventId: string;
  eventName: string;
  eventSource: string;
  /** ISO. */
  eventTime: string;
  username: string | null;
  readOnly: boolean | null;
  resources: { type: string | null; name: string }[];
  identity: TrailIdentity | null;
  userAgent: string | null;
  requestParameters: Record<string, unknown> | null;
  /** Set when AWS refused the call: it changed nothing. */
  errorCode: string | null;
}

export interface TrailLookup {
  events: TrailEvent[];
  /** More events matched than `maxPages` pages held. */
  truncated: boolean;
  pages: number;
}

export interface CloudTrailCallOptions {
  abortSignal?: AbortSignal;
}

export interface CloudTrailAdapterOptions {
  /** Default: the SDK's chain (AWS_REGION, profile). */
  region?: string;
  /** A ready client (tests, shared configuration). The adapter owns it from then on: `close()` destroys it. */
  client?: CloudTrailClient;
}

/**
 * CloudTrail's event history, read only; no SDK type leaves this file. Credentials and endpoint as
 * for every adapter here (AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_CLOUDTRAIL apply). AccessDenied names
 * `cloudtrail:LookupEvents`; throttling that outlasts the SDK's attempts is a plain error (retried
 * by the step).
 */
export class CloudTrailAdapter {
  private readonly client: CloudTrailClient;

  constructor(options: CloudTrailAdapterOptions = {}) {
    this.client = options.client ?? new CloudTrailClient({ region: options.region, maxAttempts: CLOUDTRAIL_MAX_ATTEMPTS });
  }

  /**
   * The management events matching one lookup attribute (LookupEvents takes one per call) in
   * [start, end], newest first as CloudTrail returns them, reading at most `maxPages` pages.
   */
  async lookupEvents(
    lookup: { key: TrailLookupKey; value: string },
    window: { start: Date; end: Date },
    limits: { maxPages: number },
    options: CloudTrailCallOptions = {},
  ): Promise<TrailLookup> {
    const events: TrailEvent[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    try {
      do {
        const out = await this.client.send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: lookup.key, AttributeValue: lookup.value }],
            StartTime: window.start,
            EndTime: window.end,
            MaxResults: CLOUDTRAIL_PAGE_SIZE,
            NextToken: nextToken,
          }),
          { abortSignal: options.abortSignal },
        );
        for (const e of out.Events ?? []) {
          if (e.EventId && e.EventName && e.EventTime) events.push(trailEvent(e));
        }
        nextToken = out.NextToken;
        pages++;
      } while (nextToken && pages < limits.maxPages);
    } catch (error) {
      throw toActionError(error, { iamAction: 'cloudtrail:LookupEvents', resource: `CloudTrail events with ${lookup.key}=${lookup.value}` });
    }
    return { events, truncated: Boolean(nextToken), pages };
  }

  /** The client's region (for console links), or null when none resolves. */
  region(): Promise<string | null> {
    return clientRegion(this.client);
  }

  close(): void {
    this.client.destroy();
  }
}

interface SdkEvent {
  EventId?: string;
  EventName?: string;
  ReadOnly?: string;
  EventTime?: Date;
  EventSource?: string;
  Username?: string;
  Resources?: { ResourceType?: string; ResourceName?: string }[];
  CloudTrailEvent?: string;
}

function trailEvent(e: SdkEvent): TrailEvent {
  const record = parseRecord(e.CloudTrailEvent);
  const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  const obj = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
  const uid = obj(record?.userIdentity);
  const issuer = obj(obj(uid?.sessionContext)?.sessionIssuer);
  return {
    eventId: e.EventId!,
    eventName: e.EventName!,
    eventSource: e.EventSource ?? str(record?.eventSource) ?? '',
    eventTime: e.EventTime!.toISOString(),
    username: e.Username ?? null,
    readOnly: e.ReadOnly === undefined ? null : e.ReadOnly === 'true',
    resources: (e.Resources ?? []).flatMap((r) => (r.ResourceName ? [{ type: r.ResourceType ?? null, name: r.ResourceName }] : [])),
    identity: uid
      ? {
          type: str(uid.type),
          arn: str(uid.arn),
          principalId: str(uid.principalId),
          userName: str(uid.userName),
          sessionIssuer: issuer ? { type: str(issuer.type), userName: str(issuer.userName), arn: str(issuer.arn) } : null,
          invokedBy: str(uid.invokedBy),
        }
      : null,
    userAgent: str(record?.userAgent),
    requestParameters: obj(record?.requestParameters),
    errorCode: str(record?.errorCode),
  };
}

function parseRecord(raw: string | undefined): Record<string, unknown> | null {
  if (!raw) return null;
  try {
    const parsed = JSON.parse(raw) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
