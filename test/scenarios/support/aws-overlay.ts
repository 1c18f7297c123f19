import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP stand-in in front of moto_server, for the production facts moto cannot hold: it
 * forwards every AWS call to moto unchanged, except the operations a scenario takes over. moto
 * stamps a service's only deployment with the time the test created it and never runs a task,
 * never fails a health check, never records an exit code, and has no CloudTrail LookupEvents; a
 * scenario says what production looked like instead (a deployment 12 minutes before the onset,
 * targets failing with 404, an OOM kill) and the service under test reads it through its SDK
 * clients, routed here by AWS_ENDPOINT_URL.
 */
export interface OverlayRequest {
  /** `ecs`, `elasticloadbalancing`, `logs`, `cloudtrail`, `rds`, `monitoring`... (from the signature's scope). */
  service: string;
  operation: string;
  /** The JSON body (JSON protocols) or the form fields (query protocol). */
  params: Record<string, unknown>;
  /** How the SDK spoke: `json` (x-amz-target), `query` (form fields) or `cbor` (Smithy RPC v2). */
  protocol: 'json' | 'query' | 'cbor';
  /** The SDK's attempt number of this call (1 for the first; `amz-sdk-request: attempt=N`), 0 when not said. */
  attempt: number;
  /** The SDK's id of one call, the same for each of its attempts (`amz-sdk-invocation-id`). */
  invocationId: string;
  /** The caller's app id (`app/<id>` in its user agent: the SDK sends `AWS_SDK_UA_APP_ID`), '' when not said. */
  appId: string;
}

export interface OverlayReply {
  status: number;
  contentType: string;
  body: string;
}

export interface OverlayRule {
  /** How long the call takes before it is answered or forwarded (AWS latency moto does not have). */
  delayMs?(req: OverlayRequest): number;
  /** Answers instead of moto; undefined lets the call through. */
  answer?(req: OverlayRequest): OverlayReply | undefined;
  /** Rewrites moto's answer. */
  transform?(req: OverlayRequest, reply: OverlayReply): OverlayReply;
}

export interface AwsOverlay {
  url: string;
  /**
   * `service:Operation`, e.g. `ecs:DescribeServices`. One rule per operation; a later one replaces
   * it. `*` is the rule of every operation that has none of its own.
   */
  on(key: string, rule: OverlayRule): void;
  /** How many calls of `service:Operation` the service made (answered here or forwarded). */
  calls(key: string): number;
  /** Every call received (each attempt of the SDK's retry is one), with the status answered and when (epoch ms), oldest first. */
  log(): Array<OverlayRequest & { key: string; status: number; at: number }>;
  /** Every `service:Operation` called so far, with its count. */
  allCalls(): Map<string, number>;
  close(): Promise<void>;
}

export const json = (status: number, body: unknown): OverlayReply => ({ status, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(body) });

/** The error an AWS JSON-protocol service sends, e.g. AccessDeniedException. */
export function jsonError(status: number, type: string, message: string): OverlayReply {
  return json(status, { __type: type, message });
}

/**
 * The error AWS would send in the protocol the call used (JSON `__type`, or the query protocol's
 * XML ErrorResponse), e.g. `awsError(req, 400, 'ThrottlingException', 'Rate exceeded')`. CBOR
 * calls get the status alone, which the SDK still classifies by it.
 */
export function awsError(req: OverlayRequest, status: number, code: string, message: string): OverlayReply {
  if (req.protocol === 'json') return jsonError(status, code, message);
  if (req.protocol === 'query') {
    const type = status >= 500 ? 'Receiver' : 'Sender';
    const body = `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
    return { status, contentType: 'text/xml', body };
  }
  return { status, contentType: 'application/cbor', body: '' };
}

function operationOf(req: IncomingMessage, raw: string): OverlayRequest {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''));
  const service = scope?.[1] ?? 'unknown';
  const attempt = Number(/attempt=(\d+)/.exec(String(req.headers['amz-sdk-request'] ?? ''))?.[1] ?? 0);
  const invocationId = String(req.headers['amz-sdk-invocation-id'] ?? '');
  const userAgent = `${String(req.headers['x-amz-user-agent'] ?? '')} ${String(req.headers['user-agent'] ?? '')}`;
  const appId = /(?:^| )app\/([^ ]+)/.exec(userAgent)?.[1] ?? '';
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    let params: Record<string, unknown> = {};
    try {
      params = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      // not JSON: the rule sees no params
    }
    return { service, operation: target.split('.').at(-1)!, params, protocol: 'json', attempt, invocationId, appId };
  }
  const form = Object.fromEntries(new URLSearchParams(raw));
  const cbor = /\/operation\/([A-Za-z]+)$/.exec(req.url ?? '');
  const operation = typeof form.Action === 'string' ? form.Action : (cbor?.[1] ?? 'unknown');
  return { service, operation, params: form, protocol: cbor ? 'cbor' : 'query', attempt, invocationId, appId };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface OverlayOptions {
  /** Latency of every call without a rule of its own (`delayMs`): the benchmarks inject AWS's here. */
  latencyMs?: number;
}

export async function startAwsOverlay(motoUrl: string, options: OverlayOptions = {}): Promise<AwsOverlay> {
  const rules = new Map<string, OverlayRule>();
  const counts = new Map<string, number>();
  const log: Array<OverlayRequest & { key: string; status: number; at: number }> = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const op = operationOf(req, body.toString('utf8'));
    const key = `${op.service}:${op.operation}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const rule = rules.get(key) ?? rules.get('*');
    const delay = rule?.delayMs?.(op) ?? options.latencyMs ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const answered = rule?.answer?.(op);
    if (answered) {
      log.push({ ...op, key, status: answered.status, at: Date.now() });
      res.writeHead(answered.status, { 'content-type': answered.contentType, 'x-amzn-requestid': randomUUID() }).end(answered.body);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name)) headers[name] = value;
    }
    const upstream = await fetch(`${motoUrl}${req.url ?? '/'}`, { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body });
    const reply: OverlayReply = { status: upstream.status, contentType: upstream.headers.get('content-type') ?? 'application/octet-stream', body: await upstream.text() };
    const out = rule?.transform ? rule.transform(op, reply) : reply;
    log.push({ ...op, key, status: out.status, at: Date.now() });
    // AWS names every request (x-amzn-RequestId; S3 and the query protocols say it otherwise): keep
    // moto's, so the actions' requestId reaches the RCA as it would against AWS.
    const requestId = upstream.headers.get('x-amzn-requestid') ?? upstream.headers.get('x-amz-request-id') ?? randomUUID();
    res.writeHead(out.status, { 'content-type': out.contentType, 'x-amzn-requestid': requestId }).end(out.body);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A broken rule must show up in the scenario's failure, not as a hung call.
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: 'OverlayError', message: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    on: (key, rule) => void rules.set(key, rule),
    calls: (key) => counts.get(key) ?? 0,
    log: () => [...log],
    allCalls: () => new Map(counts),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
