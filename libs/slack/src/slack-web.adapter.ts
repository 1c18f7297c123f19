import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type Logger,
} from '@slack/web-api';
import type { types } from '@slack/bolt';

/**
 * Slack's Web API, the one place besides Bolt that calls it. Methods are named for what
 * Responder does; WebClient types and errors stay inside. Every call is made once: the client's own
 * retries are off and rate-limited calls are rejected, because the reporter's BullMQ queue retries
 * (with the delay a SlackRetryableError carries) and a second layer of retries would hold a job for
 * the client's default of about 30 minutes.
 */

export type SlackBlocks = readonly (types.KnownBlock | types.Block)[];

export interface SlackWebOptions {
  /** The bot token (xoxb-…). Kept in the client, never logged or put in an error. */
  token: string;
  /** Another Web API base URL (SLACK_API_URL; the test stand-in). Default https://slack.com/api/. */
  apiUrl?: string;
  /** Receives the WebClient's own log lines (it redacts tokens). Default: errors only, to stderr. */
  logger?: Logger;
  /** Per-request timeout; a timed-out call is retryable. Default 10 s. */
  timeoutMs?: number;
}

/** Worth trying again later: 5xx, network errors, timeouts, rate limits, Slack's transient errors. */
export class SlackRetryableError extends Error {
  override readonly name = 'SlackRetryableError';
  constructor(
    readonly method: string,
    /** Slack's error string, or `http_<status>` / `request_error` / `ratelimited`. */
    readonly code: string,
    /** When Slack said how long to wait (Retry-After). */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(`Slack ${method} failed: ${code}${retryAfterMs === undefined ? '' : ` (retry after ${retryAfterMs} ms)`}`, options);
  }
}

/** Will fail the same way again: bad channel, missing scope, revoked token, unknown message… */
export class SlackPermanentError extends Error {
  override readonly name = 'SlackPermanentError';
  constructor(
    readonly method: string,
    /** Slack's error string (`channel_not_found`, `not_in_channel`, `invalid_auth`, …). */
    readonly code: string,
    detail?: string,
    options?: ErrorOptions,
  ) {
    super(`Slack ${method} failed: ${code}${detail ? ` (${detail})` : ''}`, options);
  }
}

/** Slack `ok:false` errors that say "not now" rather than "never". */
const TRANSIENT_CODES = new Set([
  'ratelimited',
  'rate_limited',
  'internal_error',
  'service_unavailable',
  'fatal_error',
  'request_timeout',
]);

export class SlackWeb {
  // A private field, not a property: the client holds the token, and a logger serialising this
  // object must not reach it.
  readonly #client: WebClient;
  readonly #timeoutMs: number;

  constructor({ token, apiUrl, logger, timeoutMs = 10_000 }: SlackWebOptions) {
    this.#timeoutMs = timeoutMs;
    this.#client = new WebClient(token, {
      slackApiUrl: apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: timeoutMs,
      ...(logger ? { logger } : { logLevel: LogLevel.ERROR }),
    });
  }

  /** Posts a message; `channel` in the answer is the channel ID even when a name was given. */
  async postMessage(input: { channel: string; text: string; blocks?: SlackBlocks; threadTs?: string }): Promise<{ channel: string; ts: string }> {
    const res = await this.call('chat.postMessage', () =>
      this.#client.chat.postMessage({
        channel: input.channel,
        text: input.text,
        blocks: input.blocks as (types.KnownBlock | types.Block)[] | undefined,
        thread_ts: input.threadTs,
      }),
    );
    return { channel: required(res.channel, 'chat.postMessage', 'channel'), ts: required(res.ts, 'chat.postMessage', 'ts') };
  }

  /** Replaces a message's text (the notification and accessibility fallback) and blocks. */
  async updateMessage(input: { channel: string; ts: string; text: string; blocks?: SlackBlocks }): Promise<void> {
    await this.call('chat.update', () =>
      this.#client.chat.update({
        channel: input.channel,
        ts: input.ts,
        text: input.text,
        blocks: input.blocks as (types.KnownBlock | types.Block)[] | undefined,
      }),
    );
  }

  /** A message only `user` sees (refusals, command answers). Returns its ts. */
  async postEphemeral(input: { channel: string; user: string; text: string; blocks?: SlackBlocks; threadTs?: string }): Promise<{ ts: string }> {
    const res = await this.call('chat.postEphemeral', () =>
      this.#client.chat.postEphemeral({
        channel: input.channel,
        user: input.user,
        text: input.text,
        blocks: input.blocks as (types.KnownBlock | types.Block)[] | undefined,
        thread_ts: input.threadTs,
      }),
    );
    return { ts: required(res.message_ts, 'chat.postEphemeral', 'message_ts') };
  }

  /** The user IDs in a user group (an approver group's `slackUserGroup`). */
  async userGroupMembers(groupId: string): Promise<string[]> {
    const res = await this.call('usergroups.users.list', () => this.#client.usergroups.users.list({ usergroup: groupId }));
    return res.users ?? [];
  }

  /**
   * Uploads a file into a channel (and thread) with Slack's three external-upload steps, made here
   * rather than through filesUploadV2 so a failed byte upload is classified like any other call.
   */
  async uploadFile(input: {
    channel: string;
    threadTs?: string;
    filename: string;
    title: string;
    content: string | Buffer;
    comment?: string;
  }): Promise<{ fileId: string }> {
    const bytes = typeof input.content === 'string' ? Buffer.from(input.content, 'utf8') : input.content;
    const target = await this.call('files.getUploadURLExternal', () =>
      this.#client.files.getUploadURLExternal({ filename: input.filename, length: bytes.length }),
    );
    const uploadUrl = required(target.upload_url, 'files.getUploadURLExternal', 'upload_url');
    const fileId = required(target.file_id, 'files.getUploadURLExternal', 'file_id');
    await this.putBytes(uploadUrl, bytes);
    await this.call('files.completeUploadExternal', () =>
      this.#client.files.completeUploadExternal({
        files: [{ id: fileId, title: input.title }],
        channel_id: input.channel,
        thread_ts: input.threadTs,
        initial_comment: input.comment,
      }),
    );
    return { fileId };
  }

  /** Who the token is: the bot's user ID (to ignore its own messages) and bot ID. */
  async authTest(): Promise<{ userId: string; botId: string; teamId: string | undefined }> {
    const res = await this.call('auth.test', () => this.#client.auth.test());
    return {
      userId: required(res.user_id, 'auth.test', 'user_id'),
      botId: required(res.bot_id, 'auth.test', 'bot_id'),
      teamId: res.team_id,
    };
  }

  private async call<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw classify(method, err);
    }
  }

  /** The upload URL is pre-signed: no token goes with the bytes. */
  private async putBytes(url: string, bytes: Buffer): Promise<void> {
    const method = 'files.upload';
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
        redirect: 'error',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new SlackRetryableError(method, 'request_error', undefined, { cause: err });
    }
    await res.arrayBuffer();
    if (res.status === 200) return;
    if (res.status === 429 || res.status === 408 || res.status >= 500) {
      throw new SlackRetryableError(method, `http_${res.status}`, retryAfterMs(res.headers.get('retry-after')));
    }
    throw new SlackPermanentError(method, `http_${res.status}`);
  }
}

function classify(method: string, err: unknown): Error {
  if (err instanceof WebAPIRateLimitedError) {
    return new SlackRetryableError(method, 'ratelimited', err.retryAfter * 1000, { cause: err });
  }
  if (err instanceof WebAPIPlatformError) {
    const data = err.data as { error?: unknown; needed?: unknown; response_metadata?: { retryAfter?: number } };
    const code = typeof data.error === 'string' ? data.error : 'unknown_error';
    if (TRANSIENT_CODES.has(code)) {
      const after = data.response_metadata?.retryAfter;
      return new SlackRetryableError(method, code, after === undefined ? undefined : after * 1000, { cause: err });
    }
    const detail = typeof data.needed === 'string' ? `needed: ${data.needed}` : undefined;
    return new SlackPermanentError(method, code, detail, { cause: err });
  }
  if (err instanceof WebAPIHTTPError) {
    const code = `http_${err.statusCode}`;
    if (err.statusCode >= 500 || err.statusCode === 408) {
      return new SlackRetryableError(method, code, retryAfterMs(err.headers['retry-after']), { cause: err });
    }
    return new SlackPermanentError(method, code, undefined, { cause: err });
  }
  if (err instanceof WebAPIRequestError) {
    return new SlackRetryableError(method, 'request_error', undefined, { cause: err });
  }
  // WebClient answers a 429 without a usable Retry-After with a plain Error (p-retry's AbortError
  // unwrapped); it is still a rate limit.
  if (err instanceof Error && err.message.startsWith('Retry header did not contain a valid timeout')) {
    return new SlackRetryableError(method, 'ratelimited', undefined, { cause: err });
  }
  return new SlackPermanentError(method, 'unexpected_error', err instanceof Error ? err.message : String(err), { cause: err });
}

function retryAfterMs(header: string | string[] | null | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number.parseInt(value, 10);
  return Number.isNaN(seconds) ? undefined : seconds * 1000;
}

/** Slack's typings make every answer field optional; a missing one is a broken answer, not a retry. */
function required<T>(value: T | undefined, method: string, field: string): T {
  if (value === undefined || value === null || value === '') {
    throw new SlackPermanentError(method, 'invalid_response', `no ${field} in the answer`);
  }
  return value;
}
