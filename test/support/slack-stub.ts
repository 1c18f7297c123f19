import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A local stand-in for Slack's Web API (and, for Socket Mode, its WebSocket endpoint), so tests can
 * drive the real WebClient and Bolt against something that records what they sent and can be told
 * to fail. It keeps the state a test asserts on (messages after their updates, uploads by
 * channel/thread, ephemerals, response_url posts, Socket Mode acks) and nothing else.
 *
 * Behaviour follows Slack where a client could notice: form bodies with JSON-encoded nested values,
 * `ok:false` errors with HTTP 200, 429 with Retry-After, channel names answered with channel IDs,
 * bot tokens refused on apps.connections.open and app tokens refused elsewhere.
 */

export interface StubCall {
  method: string;
  args: Record<string, unknown>;
  /** Epoch milliseconds. */
  at: number;
  /** The bearer token (or `token` argument) the call carried, if any. */
  token: string | undefined;
  ok: boolean;
  /** HTTP status answered (200 for Slack's `ok:false` errors too). */
  status: number;
  error?: string;
  /** True when the call failed because of failNext(): it had no effect. */
  injected: boolean;
}

export interface StubMessage {
  channel: string;
  ts: string;
  threadTs: string | undefined;
  text: string | undefined;
  blocks: unknown[] | undefined;
  /** How many chat.update calls changed it. */
  updates: number;
}

export interface StubEphemeral {
  channel: string;
  user: string;
  messageTs: string;
  threadTs: string | undefined;
  text: string | undefined;
  blocks: unknown[] | undefined;
}

export interface StubUpload {
  fileId: string;
  filename: string;
  /** The length announced to files.getUploadURLExternal. */
  length: number;
  title: string | undefined;
  content: Buffer;
  /** `content` as UTF-8. */
  text: string;
  channel: string | undefined;
  threadTs: string | undefined;
  initialComment: string | undefined;
}

export interface StubResponse {
  id: string;
  body: unknown;
  at: number;
}

/** What the next call(s) to a method answer instead of doing anything. */
export type StubFailure = { status: number; retryAfter?: number } | { error: string };

export interface SocketEnvelope {
  envelope_id?: string;
  type: 'interactive' | 'slash_commands' | 'events_api' | (string & {});
  payload: unknown;
  accepts_response_payload?: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

export interface SocketAck {
  envelope_id: string;
  payload?: unknown;
  at: number;
}

export const STUB_AUTH = {
  user_id: 'UBOT',
  bot_id: 'BBOT',
  team_id: 'T1',
  team: 'test',
  url: 'https://test.slack.com/',
  user: 'responder',
} as const;

/** Slack sends these as JSON strings inside a form body; the WebClient encodes them so. */
const JSON_ARGS = new Set(['blocks', 'attachments', 'files', 'metadata', 'view', 'user_auth_blocks']);
const CHANNEL_ID = /^[CDG][A-Z0-9]{2,}$/;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export async function startSlackStub(): Promise<SlackStub> {
  const stub = new SlackStub();
  await stub.listen();
  return stub;
}

export class SlackStub {
  /** Usergroup ID → member user IDs, answered by usergroups.users.list. */
  readonly userGroups = new Map<string, string[]>();
  readonly calls: StubCall[] = [];
  readonly ephemerals: StubEphemeral[] = [];
  readonly uploads: StubUpload[] = [];
  readonly responses: StubResponse[] = [];
  readonly socketAcks: SocketAck[] = [];

  private readonly server: Server;
  private port = 0;
  private readonly posted = new Map<string, StubMessage>();
  private readonly channelIds = new Map<string, string>();
  private readonly failures = new Map<string, StubFailure[]>();
  private outageFailure: StubFailure | undefined;
  private readonly holds = new Map<string, Array<() => Promise<void>>>();
  private readonly pendingUploads = new Map<string, { filename: string; length: number; content?: Buffer }>();
  private readonly sockets = new Set<WsConnection>();
  // Never reset: a ts stays unique for the life of the stub, so an update aimed at a message from
  // before reset() fails like it would in Slack instead of hitting a newer message.
  private tsSeq = 0;
  private idSeq = 0;

  constructor() {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err instanceof Error ? err.message : String(err));
      });
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  /** @internal used by startSlackStub(). Port 0: the OS picks a free one (never 5060/5061 in practice). */
  async listen(): Promise<void> {
    await new Promise<void>((done, fail) => {
      this.server.once('error', fail);
      this.server.listen(0, '127.0.0.1', () => done());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What WebClient's `slackApiUrl` wants. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** A response_url whose POSTs land in `responses` with this id. */
  responseUrl(id: string): string {
    return `${this.url}/respond/${encodeURIComponent(id)}`;
  }

  /** The channel ID Slack would answer for a name (`incidents` or `#incidents`); IDs map to themselves. */
  channelId(nameOrId: string): string {
    if (CHANNEL_ID.test(nameOrId)) return nameOrId;
    const name = nameOrId.replace(/^#/, '');
    let id = this.channelIds.get(name);
    if (!id) {
      id = `C${String(this.channelIds.size + 1).padStart(9, '0')}`;
      this.channelIds.set(name, id);
    }
    return id;
  }

  /** Posted messages in their current state (after updates), in posting order; thread replies included. */
  messages(channel?: string): StubMessage[] {
    const id = channel === undefined ? undefined : this.channelId(channel);
    return [...this.posted.values()].filter((m) => id === undefined || m.channel === id).map((m) => structuredClone(m));
  }

  /** The replies in one thread, oldest first. */
  replies(channel: string, threadTs: string): StubMessage[] {
    return this.messages(channel).filter((m) => m.threadTs === threadTs);
  }

  /** Uploads completed into a channel (and a thread, when given). */
  uploadsIn(channel: string, threadTs?: string): StubUpload[] {
    const id = this.channelId(channel);
    return this.uploads.filter((u) => u.channel === id && (threadTs === undefined || u.threadTs === threadTs));
  }

  /** Calls of one method, successful or not. */
  callsTo(method: string): StubCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /**
   * The next `times` calls to `method` fail this way and have no other effect. `method` is a Web API
   * method name, or `upload` (the upload URL) or `respond` (response_url POSTs).
   */
  failNext(method: string, times: number, failure: StubFailure): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(failure);
    this.failures.set(method, queue);
  }

  /**
   * Until `outage(null)`, every Web API call (and upload) answers this way and has no other effect,
   * after the ones queued by failNext(): Slack down (`{ status: 500 }`) or rate-limiting every call
   * (`{ status: 429, retryAfter: 1 }`). response_url posts are not affected.
   */
  outage(failure: StubFailure | null): void {
    this.outageFailure = failure ?? undefined;
  }

  /**
   * The next call to `method` waits, before it has any effect, until `release()`: `reached`
   * resolves once it is waiting. Then it is handled as usual (Slack accepting a post, say, while the
   * test takes Redis away from the caller).
   */
  holdNext(method: string): { reached: Promise<void>; release: () => void } {
    let release: () => void = () => undefined;
    let reach: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const queue = this.holds.get(method) ?? [];
    queue.push(() => {
      reach();
      return released;
    });
    this.holds.set(method, queue);
    return { reached, release };
  }

  /** Forgets everything recorded and every pending failure; userGroups and channel IDs stay. */
  reset(): void {
    this.calls.length = 0;
    this.ephemerals.length = 0;
    this.uploads.length = 0;
    this.responses.length = 0;
    this.socketAcks.length = 0;
    this.posted.clear();
    this.failures.clear();
    this.outageFailure = undefined;
    this.pendingUploads.clear();
  }

  /**
   * Polls until `predicate` returns something truthy and returns it. For assertions on work that
   * happens after the call under test returned (queues, Bolt listeners).
   */
  async waitFor<T>(predicate: (stub: SlackStub) => T, timeoutMs = 5000): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate(this);
      if (value) return value;
      if (Date.now() > deadline) {
        const last = this.calls.slice(-5).map((c) => `${c.method}:${c.ok ? 'ok' : c.error}`);
        throw new Error(`slack stub: condition not met within ${timeoutMs} ms (last calls: ${last.join(', ') || 'none'})`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  // ---- Socket Mode ----

  /** Socket Mode connections whose TCP connection is still up (0 once a client has fully disconnected). */
  get socketConnections(): number {
    return this.sockets.size;
  }

  /**
   * Sends an envelope to every connected Socket Mode client (Slack sends each to one connection;
   * tests run one). Returns the envelope id, to find the ack in `socketAcks`.
   */
  socketSend(envelope: SocketEnvelope): string {
    const open = [...this.sockets].filter((s) => s.open);
    if (open.length === 0) throw new Error('slack stub: no Socket Mode client is connected');
    const envelopeId = envelope.envelope_id ?? `env-${++this.idSeq}`;
    const message = JSON.stringify({ accepts_response_payload: false, ...envelope, envelope_id: envelopeId });
    for (const socket of open) socket.sendText(message);
    return envelopeId;
  }

  /** Asks clients to reconnect, as Slack does before recycling a connection. */
  socketDisconnect(reason = 'refresh_requested'): void {
    for (const socket of this.sockets) if (socket.open) socket.sendText(JSON.stringify({ type: 'disconnect', reason }));
  }

  async close(): Promise<void> {
    // A close handshake rather than a reset: the socket-mode client leaks a 30 s timer (and keeps
    // jest alive) when its connection drops while it is closing.
    await Promise.all([...this.sockets].map((socket) => socket.shutdown(1000)));
    this.sockets.clear();
    // Keep-alive connections from fetch would otherwise hold close() open.
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', this.url).pathname;
    const raw = await readBody(req);
    const contentType = req.headers['content-type'] ?? '';
    if (req.method !== 'POST') return send(res, 405, { ok: false, error: 'method_not_allowed' });

    const api = /^\/api\/([\w.]+)$/.exec(path);
    if (api) {
      const hold = this.holds.get(api[1])?.shift();
      if (hold) await hold();
      return this.apiCall(api[1], req, res, await parseArgs(contentType, raw));
    }

    const upload = /^\/upload\/([\w-]+)$/.exec(path);
    if (upload) return this.receiveUpload(upload[1], res, contentType, raw);

    const respond = /^\/respond\/(.+)$/.exec(path);
    if (respond) {
      const failure = this.takeFailure('respond');
      if (failure) return this.answerFailure(res, failure);
      const text = raw.toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Slack accepts only JSON here; keep the text so the test can see what was sent.
      }
      this.responses.push({ id: decodeURIComponent(respond[1]), body, at: Date.now() });
      return send(res, 200, { ok: true });
    }
    send(res, 404, { ok: false, error: 'not_found' });
  }

  private apiCall(method: string, req: IncomingMessage, res: ServerResponse, args: Record<string, unknown>): void {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
    const { token: _omitted, ...recordedArgs } = args;
    const call: StubCall = { method, args: recordedArgs, at: Date.now(), token, ok: false, status: 200, injected: false };
    this.calls.push(call);

    const failure = this.takeFailure(method);
    if (failure) {
      call.injected = true;
      if ('error' in failure) call.error = failure.error;
      else call.status = failure.status;
      return this.answerFailure(res, failure);
    }

    const result = this.authError(method, token) ?? this.dispatch(method, recordedArgs);
    call.ok = result.ok === true;
    if (!call.ok) call.error = String(result.error);
    send(res, 200, result);
  }

  private authError(method: string, token: string | undefined): Record<string, unknown> | undefined {
    if (!token) return { ok: false, error: 'not_authed' };
    const appToken = token.startsWith('xapp-');
    if (!appToken && !/^xox[bpe]-/.test(token)) return { ok: false, error: 'invalid_auth' };
    // Slack separates the two: app-level tokens only open Socket Mode connections.
    if ((method === 'apps.connections.open') !== appToken) return { ok: false, error: 'not_allowed_token_type' };
    return undefined;
  }

  private dispatch(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, ...STUB_AUTH };
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.updateMessage(args);
      case 'chat.postEphemeral':
        return this.postEphemeral(args);
      case 'usergroups.users.list': {
        const users = this.userGroups.get(str(args.usergroup) ?? '');
        return users ? { ok: true, users: [...users] } : { ok: false, error: 'no_such_subteam' };
      }
      case 'files.getUploadURLExternal':
        return this.uploadUrl(args);
      case 'files.completeUploadExternal':
        return this.completeUpload(args);
      case 'apps.connections.open':
        return { ok: true, url: `ws://127.0.0.1:${this.port}/socket?ticket=${++this.idSeq}&app_id=A1` };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private postMessage(args: Record<string, unknown>): Record<string, unknown> {
    const name = str(args.channel);
    if (!name) return { ok: false, error: 'channel_not_found' };
    const text = str(args.text);
    const blocks = blocksOf(args.blocks);
    if (text === undefined && blocks === undefined && args.attachments === undefined) return { ok: false, error: 'no_text' };
    const channel = this.channelId(name);
    const ts = this.nextTs();
    const threadTs = str(args.thread_ts);
    this.posted.set(`${channel}/${ts}`, { channel, ts, threadTs, text, blocks, updates: 0 });
    return { ok: true, channel, ts, message: this.messageJson({ ts, text, blocks, threadTs }) };
  }

  private updateMessage(args: Record<string, unknown>): Record<string, unknown> {
    const channel = this.channelId(str(args.channel) ?? '');
    const ts = str(args.ts) ?? '';
    const message = this.posted.get(`${channel}/${ts}`);
    if (!message) return { ok: false, error: 'message_not_found' };
    // Slack keeps the old blocks when only text is sent, and the old text when only blocks are.
    if (args.text !== undefined) message.text = str(args.text);
    if (args.blocks !== undefined) message.blocks = blocksOf(args.blocks);
    message.updates++;
    return { ok: true, channel, ts, text: message.text, message: this.messageJson(message) };
  }

  private postEphemeral(args: Record<string, unknown>): Record<string, unknown> {
    const name = str(args.channel);
    const user = str(args.user);
    if (!name) return { ok: false, error: 'channel_not_found' };
    if (!user) return { ok: false, error: 'user_not_found' };
    const messageTs = this.nextTs();
    this.ephemerals.push({
      channel: this.channelId(name),
      user,
      messageTs,
      threadTs: str(args.thread_ts),
      text: str(args.text),
      blocks: blocksOf(args.blocks),
    });
    return { ok: true, message_ts: messageTs };
  }

  private uploadUrl(args: Record<string, unknown>): Record<string, unknown> {
    const filename = str(args.filename);
    const length = Number(args.length);
    if (!filename || !Number.isInteger(length) || length < 0) return { ok: false, error: 'invalid_arguments' };
    const fileId = `F${String(++this.idSeq).padStart(9, '0')}`;
    this.pendingUploads.set(fileId, { filename, length });
    return { ok: true, upload_url: `${this.url}/upload/${fileId}`, file_id: fileId };
  }

  private receiveUpload(fileId: string, res: ServerResponse, contentType: string, raw: Buffer): Promise<void> | void {
    const failure = this.takeFailure('upload');
    if (failure) return this.answerFailure(res, failure);
    const pending = this.pendingUploads.get(fileId);
    if (!pending) return send(res, 404, 'file not found');
    // Slack takes the bytes raw or as multipart/form-data (what WebClient.filesUploadV2 sends).
    return fileBytes(contentType, raw).then((content) => {
      pending.content = content;
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${content.length}`);
    });
  }

  private completeUpload(args: Record<string, unknown>): Record<string, unknown> {
    const files = Array.isArray(args.files) ? (args.files as { id?: unknown; title?: unknown }[]) : [];
    if (files.length === 0) return { ok: false, error: 'invalid_arguments' };
    const channelName = str(args.channel_id) ?? str(args.channels);
    const done: StubUpload[] = [];
    for (const file of files) {
      const fileId = str(file.id) ?? '';
      const pending = this.pendingUploads.get(fileId);
      // A file whose bytes never reached the upload URL cannot be completed: the stand-in is
      // stricter than Slack here, to catch a skipped upload step.
      if (!pending?.content) return { ok: false, error: 'file_not_found' };
      done.push({
        fileId,
        filename: pending.filename,
        length: pending.length,
        title: str(file.title),
        content: pending.content,
        text: pending.content.toString('utf8'),
        channel: channelName === undefined ? undefined : this.channelId(channelName),
        threadTs: str(args.thread_ts),
        initialComment: str(args.initial_comment),
      });
    }
    for (const upload of done) {
      this.pendingUploads.delete(upload.fileId);
      this.uploads.push(upload);
    }
    return { ok: true, files: done.map((u) => ({ id: u.fileId, title: u.title ?? u.filename, name: u.filename })) };
  }

  private takeFailure(method: string): StubFailure | undefined {
    return this.failures.get(method)?.shift() ?? (method === 'respond' ? undefined : this.outageFailure);
  }

  private answerFailure(res: ServerResponse, failure: StubFailure): void {
    if ('error' in failure) return send(res, 200, { ok: false, error: failure.error });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
    const error = failure.status === 429 ? 'ratelimited' : 'internal_error';
    res.writeHead(failure.status, headers).end(JSON.stringify({ ok: false, error }));
  }

  private nextTs(): string {
    const micros = ++this.tsSeq * 100;
    return `${1_700_000_000 + Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  private messageJson(m: { ts: string; text?: string; blocks?: unknown[]; threadTs?: string }): Record<string, unknown> {
    return {
      type: 'message',
      user: STUB_AUTH.user_id,
      bot_id: STUB_AUTH.bot_id,
      team: STUB_AUTH.team_id,
      ts: m.ts,
      text: m.text ?? '',
      ...(m.blocks ? { blocks: m.blocks } : {}),
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    };
  }

  // ---- WebSocket (Socket Mode) ----

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const key = req.headers['sec-websocket-key'];
    const path = new URL(req.url ?? '/', this.url).pathname;
    if (path !== '/socket' || typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    // No Sec-WebSocket-Extensions in the answer: permessage-deflate, which undici offers, stays off.
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const connection = new WsConnection(socket, (text) => this.onSocketText(text), () => this.sockets.delete(connection));
    this.sockets.add(connection);
    if (head.length > 0) connection.receive(head);
    connection.sendText(
      JSON.stringify({
        type: 'hello',
        num_connections: this.socketConnections,
        debug_info: { host: 'applink-stub', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: 'A1' },
      }),
    );
  }

  private onSocketText(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message === 'object' && message !== null && 'envelope_id' in message) {
      const { envelope_id, payload } = message as { envelope_id: unknown; payload?: unknown };
      this.socketAcks.push({ envelope_id: String(envelope_id), payload, at: Date.now() });
    }
  }
}

/**
 * The server side of RFC 6455, as much as Socket Mode uses: text frames both ways, masked client
 * frames, fragmentation, ping → pong (the client drops the connection after 3 unanswered pings), and
 * the close handshake. `ws` is not installed (socket-mode 3 uses undici's client), hence by hand.
 */
class WsConnection {
  open = true;
  private buffered = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private readonly ended: Promise<void>;

  constructor(
    private readonly socket: Duplex,
    private readonly onText: (text: string) => void,
    private readonly onGone: () => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.gone());
    this.ended = new Promise((done) =>
      socket.on('close', () => {
        this.gone();
        done();
      }),
    );
  }

  sendText(text: string): void {
    this.sendFrame(0x1, Buffer.from(text, 'utf8'));
  }

  /** Sends a close frame (1001, going away), waits for the client's answer, then drops the socket. */
  async shutdown(timeoutMs: number): Promise<void> {
    if (this.socket.destroyed) return;
    if (this.open) {
      const code = Buffer.alloc(2);
      code.writeUInt16BE(1001);
      this.sendFrame(0x8, code);
      this.open = false;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ended, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.socket.destroy();
  }

  receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const frame = readFrame(this.buffered);
      if (!frame) return;
      this.buffered = this.buffered.subarray(frame.size);
      this.onFrame(frame.fin, frame.opcode, frame.payload);
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case 0x0:
      case 0x1:
      case 0x2:
        this.fragments.push(payload);
        if (fin) {
          const message = Buffer.concat(this.fragments);
          this.fragments = [];
          if (opcode !== 0x2) this.onText(message.toString('utf8'));
        }
        return;
      case 0x8:
        // Echo the client's close (or answer ours), then end TCP: the server closes first (RFC 6455 §7.1.1).
        if (this.open) this.sendFrame(0x8, payload.subarray(0, 2));
        this.open = false;
        this.socket.end();
        return;
      case 0x9:
        this.sendFrame(0xa, payload);
        return;
      default:
        return;
    }
  }

  private sendFrame(opcode: number, payload: Buffer): void {
    if (!this.open || this.socket.destroyed) return;
    let header: Buffer;
    if (payload.length < 126) {
      header = Buffer.from([0x80 | opcode, payload.length]);
    } else if (payload.length < 65536) {
      header = Buffer.alloc(4);
      header.writeUInt16BE(payload.length, 2);
      header[1] = 126;
    } else {
      header = Buffer.alloc(10);
      header.writeBigUInt64BE(BigInt(payload.length), 2);
      header[1] = 127;
    }
    header[0] = 0x80 | opcode;
    this.socket.write(Buffer.concat([header, payload]));
  }

  private gone(): void {
    this.open = false;
    this.onGone();
  }
}

function readFrame(buf: Buffer): { fin: boolean; opcode: number; payload: Buffer; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const fin = (buf[0] & 0x80) !== 0;
  const opcode = buf[0] & 0x0f;
  const masked = (buf[1] & 0x80) !== 0;
  let length = buf[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  if (buf.length < offset + length) return undefined;
  const payload = Buffer.from(buf.subarray(offset, offset + length));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= buf[maskOffset + (i % 4)];
  return { fin, opcode, payload, size: offset + length };
}

// ---- helpers ----

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => done(Buffer.concat(chunks)));
    req.on('error', fail);
  });
}

async function parseArgs(contentType: string, raw: Buffer): Promise<Record<string, unknown>> {
  if (raw.length === 0) return {};
  if (contentType.startsWith('application/json')) {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  }
  const args: Record<string, unknown> = {};
  if (contentType.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    for (const [key, value] of form.entries()) {
      args[key] = typeof value === 'string' ? decodeJsonArg(key, value) : Buffer.from(await value.arrayBuffer());
    }
    return args;
  }
  for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) args[key] = decodeJsonArg(key, value);
  return args;
}

function decodeJsonArg(key: string, value: string): unknown {
  if (!JSON_ARGS.has(key)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

async function fileBytes(contentType: string, raw: Buffer): Promise<Buffer> {
  if (!contentType.startsWith('multipart/form-data')) return raw;
  const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  for (const value of form.values()) {
    if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  }
  return Buffer.alloc(0);
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function blocksOf(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? (value as unknown[]) : undefined;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json; charset=utf-8' });
  res.end(text);
}
