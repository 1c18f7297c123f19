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
}

export interface OverlayReply {
  status: number;
  contentType: string;
  body: string;
}

export interface OverlayRule {
  /** How long the call takes before it is answered or forwarded (AWS latency moto does not have). */
  delayMs?(): number;
  /** Answers instead of moto; undefined lets the call through. */
  answer?(req: OverlayRequest): OverlayReply | undefined;
  /** Rewrites moto's answer. */
  transform?(req: OverlayRequest, reply: OverlayReply): OverlayReply;
}

export interface AwsOverlay {
  url: string;
  /** `service:Operation`, e.g. `ecs:DescribeServices`. One rule per operation; a later one replaces it. */
  on(key: string, rule: OverlayRule): void;
  /** How many calls of `service:Operation` the service made (answered here or forwarded). */
  calls(key: string): number;
  /** Every `service:Operation` called so far, with its count. */
  allCalls(): Map<string, number>;
  close(): Promise<void>;
}

export const json = (status: number, body: unknown): OverlayReply => ({ status, contentType: 'application/x-amz-json-1.1', body: JSON.stringify(body) });

/** The error an AWS JSON-protocol service sends, e.g. AccessDeniedException. */
export function jsonError(status: number, type: string, message: string): OverlayReply {
  return json(status, { __type: type, message });
}

function operationOf(req: IncomingMessage, raw: string): OverlayRequest {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''));
  const service = scope?.[1] ?? 'unknown';
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    let params: Record<string, unknown> = {};
    try {
      params = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      // not JSON: the rule sees no params
    }
    return { service, operation: target.split('.').at(-1)!, params };
  }
  const form = Object.fromEntries(new URLSearchParams(raw));
  const cbor = /\/operation\/([A-Za-z]+)$/.exec(req.url ?? '');
  return { service, operation: typeof form.Action === 'string' ? form.Action : (cbor?.[1] ?? 'unknown'), params: form };
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const op = operationOf(req, body.toString('utf8'));
    const key = `${op.service}:${op.operation}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const rule = rules.get(key);
    const delay = rule?.delayMs?.() ?? options.latencyMs ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const answered = rule?.answer?.(op);
    if (answered) {
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
    allCalls: () => new Map(counts),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
