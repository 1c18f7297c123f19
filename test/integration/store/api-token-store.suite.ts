import { ApiTokenStore, type RedisClient } from '@responder/store';
import type { StoreTarget } from './target';

/** Personal API tokens (api-token.store.ts), against one Redis and a Redis Cluster. */
export function apiTokenStoreSuite(target: () => StoreTarget): void {
  let redis: RedisClient;
  let prefix: string;
  let tokens: ApiTokenStore;
  beforeAll(() => {
    ({ redis, prefix } = target());
    tokens = new ApiTokenStore(redis, prefix);
  });

  describe('ApiTokenStore', () => {
    it('creates a token shown once, stores only its hash, checks it, and refuses it once revoked', async () => {
      const { token, record } = await tokens.create('alice@example.com', { label: 'laptop', createdBy: 'admin' });
      expect(token).toMatch(/^rsp_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
      expect(JSON.stringify(await redis.hgetall(`${prefix}:apitokens`))).not.toContain(token);
      expect(await tokens.check(token)).toEqual({ ok: true, token: record });
      expect(await tokens.check(`${token.slice(0, -1)}x`)).toEqual({ ok: false, reason: 'unknown' });
      expect((await tokens.list()).map((t) => t.id)).toContain(record.id);
      const revoked = await tokens.revoke(record.id);
      expect(revoked).toMatchObject({ id: record.id, revokedAt: expect.any(String) });
      expect(await tokens.check(token)).toEqual({ ok: false, reason: 'revoked' });
      expect(await tokens.revoke('00000000')).toBeNull();
    });
  });
}
