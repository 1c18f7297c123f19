import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from './redis-client';

/**
 * Per-person API tokens: what lets a person approve over HTTP. A token is 32 random bytes; only its
 * SHA-256 is stored (a leaked Redis dump holds no usable token), so it is shown once, at creation.
 * A revoked token keeps its record (who, when) and is refused as revoked rather than unknown.
 */
export interface ApiTokenRecord {
  /** Public id (for list and revoke); also the token's second segment, so logs can name it. */
  id: string;
  /** The catalog identity the token acts as: an approver group's user name or Slack user id. */
  user: string;
  label: string | null;
  createdAt: string;
  createdBy: string | null;
  revokedAt: string | null;
}

export type TokenCheck = { ok: true; token: ApiTokenRecord } | { ok: false; reason: 'unknown' | 'revoked' };

/** The token's prefix: tells a per-person token from the shared one and from a JWT at a glance. */
export const PERSON_TOKEN_PREFIX = 'rsp_';

/** `rsp_<id>_<secret>`: id 8 hex digits, secret 43 base64url characters (256 bits). */
const TOKEN_SHAPE = /^rsp_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$/;

export function isPersonToken(token: string): boolean {
  return token.startsWith(PERSON_TOKEN_PREFIX);
}

export class ApiTokenStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  /** Hash of id → record (JSON). */
  private get recordsKey(): string {
    return `${this.prefix}:apitokens`;
  }

  /** SHA-256 (hex) of the token → id. */
  private lookupKey(hash: string): string {
    return `${this.prefix}:apitoken:${hash}`;
  }

  /** Creates a token for `user`; the token itself is returned here and never again. */
  async create(user: string, options: { label?: string; createdBy?: string } = {}): Promise<{ token: string; record: ApiTokenRecord }> {
    const id = randomBytes(4).toString('hex');
    const token = `${PERSON_TOKEN_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
    const record: ApiTokenRecord = { id, user, label: options.label ?? null, createdAt: new Date().toISOString(), createdBy: options.createdBy ?? null, revokedAt: null };
    const created = await this.redis.hsetnx(this.recordsKey, id, JSON.stringify(record));
    // 32 bits of id: a clash is rare enough to simply draw again.
    if (created === 0) return this.create(user, options);
    await this.redis.set(this.lookupKey(sha256(token)), id);
    return { token, record };
  }

  async list(): Promise<ApiTokenRecord[]> {
    const all = await this.redis.hvals(this.recordsKey);
    return all.map((raw) => JSON.parse(raw) as ApiTokenRecord).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Returns the revoked record, or null when no token has that id (revoking twice is harmless). */
  async revoke(id: string): Promise<ApiTokenRecord | null> {
    const raw = await this.redis.hget(this.recordsKey, id);
    if (!raw) return null;
    const record = JSON.parse(raw) as ApiTokenRecord;
    if (record.revokedAt) return record;
    const revoked = { ...record, revokedAt: new Date().toISOString() };
    await this.redis.hset(this.recordsKey, id, JSON.stringify(revoked));
    return revoked;
  }

  /** Who a presented token belongs to. Costs one hash and two reads; the token is never stored or logged. */
  async check(token: string): Promise<TokenCheck> {
    const shape = TOKEN_SHAPE.exec(token);
    if (!shape) return { ok: false, reason: 'unknown' };
    const id = await this.redis.get(this.lookupKey(sha256(token)));
    // The id is part of the token: a lookup hit under another id cannot happen unless forged.
    if (id !== shape[1]) return { ok: false, reason: 'unknown' };
    const raw = await this.redis.hget(this.recordsKey, id);
    if (!raw) return { ok: false, reason: 'unknown' };
    const record = JSON.parse(raw) as ApiTokenRecord;
    return record.revokedAt ? { ok: false, reason: 'revoked' } : { ok: true, token: record };
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
