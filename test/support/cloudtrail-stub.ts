import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for CloudTrail's LookupEvents (moto does not implement it), spoken over the
 * real JSON protocol (`X-Amz-Target: CloudTrail_20131101.LookupEvents`, JSON 1.1),
 * so the real SDK client and CloudTrailAdapter run against it: route them with
 * `AWS_ENDPOINT_URL_CLOUDTRAIL=<stub.url>` (or `endpoint`).
 *
 * Seeding: `stub.seed({ eventName, eventSource, at, who, resources, requestParameters, ... })` in
 * process, or `POST <url>/__seed` with a JSON list of the same (another process). LookupEvents
 * behaves as CloudTrail does where a caller could notice: one lookup attribute, the time window,
 * newest first, pages of at most 50 (MaxResults) with an opaque NextToken, `ReadOnly` matched on
 * the string "true"/"false", `ResourceName` matched exactly against the event's resources. Failures:
 * `failWith('AccessDeniedException')` answers every call so until cleared; `throttleNext(n)` answers
 * the next n calls with ThrottlingException.
 */

export interface SeedEvent {
  eventName: string;
  eventSource: string;
  /** When: a Date, ISO string or epoch ms. */
  at: Date | string | number;
  /**
   * Who: `{ type: 'AssumedRole', role, session }`, `{ type: 'IAMUser', userName }`,
   * `{ type: 'AWSService', invokedBy }`, `{ type: 'Root' }`; default an IAM user "alice".
   */
  who?: SeedIdentity;
  /** Resources as LookupEvents lists them (ResourceName lookups match these). */
  resources?: { type?: string; name: string }[];
  requestParameters?: Record<string, unknown>;
  readOnly?: boolean;
  errorCode?: string;
  userAgent?: string;
  eventId?: string;
}

export type SeedIdentity =
  | { type: 'AssumedRole'; role: string; session: string; serviceLinked?: boolean }
  | { type: 'IAMUser'; userName: string }
  | { type: 'AWSService'; invokedBy: string }
  | { type: 'Root' };

export interface StoredEvent {
  EventId: string;
  EventName: string;
  ReadOnly: string;
  EventTime: number;
  EventSource: string;
  Username: string;
  Resources: { ResourceType?: string; ResourceName: string }[];
  CloudTrailEvent: string;
}

export interface CloudTrailCall {
  target: string;
  body: Record<string, unknown>;
  status: number;
  at: number;
}

export interface CloudTrailStub {
  url: string;
  /** Adds events; returns their ids. */
  seed(events: SeedEvent | SeedEvent[]): string[];
  reset(): void;
  failWith(code: 'AccessDeniedException' | 'InvalidLookupAttributesException' | null): void;
  throttleNext(n: number): void;
  /** Every request received, oldest first. */
  calls(): CloudTrailCall[];
  close(): Promise<void>;
}

/** The SDK sends `CloudTrail_20131101.<Operation>`; the service's full shape id has this prefix before it. */
const TARGET = /^(?:com\.amazonaws\.cloudtrail\.v20131101\.)?CloudTrail_20131101\.(\w+)$/;
const ACCOUNT = '123456789012';

export function storedEvent(seed: SeedEvent, region = 'us-east-1'): StoredEvent {
  const at = seed.at instanceof Date ? seed.at.getTime() : typeof seed.at === 'string' ? Date.parse(seed.at) : seed.at;
  const eventId = seed.eventId ?? randomUUID();
  const who = seed.who ?? { type: 'IAMUser', userName: 'alice' };
  let userIdentity: Record<string, unknown>;
  let username: string;
  switch (who.type) {
    case 'AssumedRole': {
      const rolePath = who.serviceLinked ? `aws-service-role/${who.role}` : who.role;
      userIdentity = {
        type: 'AssumedRole',
        principalId: `AROAEXAMPLE:${who.session}`,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${who.role}/${who.session}`,
        accountId: ACCOUNT,
        sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: `arn:aws:iam::${ACCOUNT}:role/${rolePath}`, accountId: ACCOUNT, userName: who.role } },
      };
      username = who.session;
      break;
    }
    case 'IAMUser':
      userIdentity = { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${ACCOUNT}:user/${who.userName}`, accountId: ACCOUNT, userName: who.userName };
      username = who.userName;
      break;
    case 'AWSService':
      userIdentity = { type: 'AWSService', invokedBy: who.invokedBy };
      username = who.invokedBy;
      break;
    case 'Root':
      userIdentity = { type: 'Root', principalId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT };
      username = 'root';
      break;
  }
  const readOnly = seed.readOnly ?? /^(?:Describe|Get|List|Lookup)/.test(seed.eventName);
  const record = {
    eventVersion: '1.09',
    userIdentity,
    eventTime: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: seed.eventSource,
    eventName: seed.eventName,
    awsRegion: region,
    sourceIPAddress: who.type === 'AWSService' ? who.invokedBy : '203.0.113.10',
    userAgent: seed.userAgent ?? 'aws-cli/2.15.0',
    requestParameters: seed.requestParameters ?? null,
    responseElements: null,
    ...(seed.errorCode ? { errorCode: seed.errorCode, errorMessage: 'refused' } : {}),
    eventID: eventId,
    readOnly,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
  };
  return {
    EventId: eventId,
    EventName: seed.eventName,
    ReadOnly: String(readOnly),
    EventTime: at / 1000,
    EventSource: seed.eventSource,
    Username: username,
    Resources: (seed.resources ?? []).map((r) => ({ ...(r.type ? { ResourceType: r.type } : {}), ResourceName: r.name })),
    CloudTrailEvent: JSON.stringify(record),
  };
}

export async function startCloudTrailStub(options: { region?: string } = {}): Promise<CloudTrailStub> {
  const region = options.region ?? 'us-east-1';
  let events: StoredEvent[] = [];
  const calls: CloudTrailCall[] = [];
  let failure: string | null = null;
  let throttle = 0;

  const seed = (input: SeedEvent | SeedEvent[]): string[] => {
    const added = (Array.isArray(input) ? input : [input]).map((e) => storedEvent(e, region));
    events.push(...added);
    return added.map((e) => e.EventId);
  };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, type: string, message: string): void => send(res, status, { __type: type, message });

  const lookup = (body: Record<string, unknown>, res: ServerResponse): number => {
    const attrs = (body.LookupAttributes as { AttributeKey?: string; AttributeValue?: string }[] | undefined) ?? [];
    if (attrs.length > 1) {
      error(res, 400, 'InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.');
      return 400;
    }
    const max = typeof body.MaxResults === 'number' ? Math.min(50, Math.max(1, body.MaxResults)) : 50;
    const start = typeof body.StartTime === 'number' ? body.StartTime : -Infinity;
    const end = typeof body.EndTime === 'number' ? body.EndTime : Infinity;
    const [attr] = attrs;
    const matches = (e: StoredEvent): boolean => {
      if (!attr) return true;
      const v = attr.AttributeValue ?? '';
      switch (attr.AttributeKey) {
        case 'ReadOnly':
          return e.ReadOnly === v;
        case 'ResourceName':
          return e.Resources.some((r) => r.ResourceName === v);
        case 'ResourceType':
          return e.Resources.some((r) => r.ResourceType === v);
        case 'EventName':
          return e.EventName === v;
        case 'EventSource':
          return e.EventSource === v;
        case 'Username':
          return e.Username === v;
        case 'EventId':
          return e.EventId === v;
        default:
          return false;
      }
    };
    const all = events.filter((e) => e.EventTime >= start && e.EventTime <= end && matches(e)).sort((a, b) => b.EventTime - a.EventTime);
    const offset = typeof body.NextToken === 'string' ? Number(Buffer.from(body.NextToken, 'base64').toString('utf8').split(':')[1]) : 0;
    const page = all.slice(offset, offset + max);
    const next = offset + max < all.length ? Buffer.from(`page:${offset + max}`).toString('base64') : undefined;
    send(res, 200, { Events: page, ...(next ? { NextToken: next } : {}) });
    return 200;
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        error(res, 400, 'SerializationException', 'body is not JSON');
        return;
      }
      if (req.method === 'POST' && req.url === '/__seed') {
        send(res, 200, { eventIds: seed(body as unknown as SeedEvent[]) });
        return;
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      const call: CloudTrailCall = { target, body, status: 0, at: Date.now() };
      calls.push(call);
      const operation = TARGET.exec(target)?.[1];
      if (!operation) {
        call.status = 400;
        error(res, 400, 'UnknownOperationException', `unknown target ${target}`);
      } else if (throttle > 0) {
        throttle--;
        call.status = 400;
        error(res, 400, 'ThrottlingException', 'Rate exceeded');
      } else if (failure) {
        call.status = 400;
        error(res, call.status, failure, `User: arn:aws:sts::${ACCOUNT}:assumed-role/responder/task is not authorized to perform: cloudtrail:LookupEvents`);
      } else if (operation === 'LookupEvents') {
        call.status = lookup(body, res);
      } else {
        call.status = 400;
        error(res, 400, 'UnsupportedOperationException', `${operation} is not implemented by the stand-in`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    seed,
    reset: () => {
      events = [];
      calls.length = 0;
      failure = null;
      throttle = 0;
    },
    failWith: (code) => {
      failure = code;
    },
    throttleNext: (n) => {
      throttle = n;
    },
    calls: () => [...calls],
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
