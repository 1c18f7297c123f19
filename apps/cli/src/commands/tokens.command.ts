import { existsSync, readFileSync } from 'node:fs';
import { type Catalog, formatSourceProblem, parseCatalog, peopleOf } from '@responder/domain';
import { ApiTokenStore } from '@responder/store';
import Redis from 'ioredis';
import { EXIT } from './io';

interface Io {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** The names a token may act as: any name (id, Slack id, e-mail, user name) of a person an approver group names. */
export function approverIdentities(catalog: Catalog): Set<string> {
  return peopleOf(catalog).approverNames();
}

function loadCatalog(env: NodeJS.ProcessEnv): { ok: true; catalog: Catalog; file: string } | { ok: false; message: string } {
  const file = env.SERVICE_CATALOG || `${(env.RUNBOOKS_DIR || 'runbooks').replace(/\/$/, '')}/service-catalog.yaml`;
  if (!existsSync(file)) return { ok: false, message: `no service catalog at ${file} (set SERVICE_CATALOG)` };
  const parsed = parseCatalog(file, readFileSync(file, 'utf8'));
  return parsed.ok ? { ok: true, catalog: parsed.value, file } : { ok: false, message: parsed.problems.map(formatSourceProblem).join('\n') };
}

/** Redis ($REDIS_URL, $REDIS_PREFIX), where the service keeps the tokens; a Redis that stops answering fails the command. */
async function withStore<T>(env: NodeJS.ProcessEnv, fn: (store: ApiTokenStore, prefix: string) => Promise<T>): Promise<T> {
  const prefix = env.REDIS_PREFIX || 'responder';
  const redis = new Redis(env.REDIS_URL || 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, commandTimeout: 10_000 });
  try {
    await redis.connect();
    return await fn(new ApiTokenStore(redis, prefix), prefix);
  } finally {
    redis.disconnect();
  }
}

async function guarded(err: Io['err'], fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    err(`tokens: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
}

/**
 * `tokens create <user> [--label x]`: a personal API token for a catalog approver (any of a person's
 * names: it acts as that person), printed once on stdout (only its SHA-256 is stored). Exit 1 for a user in no approver group.
 */
export function tokensCreate(user: string, opts: { label?: string }, { env, out, err }: Io): Promise<number> {
  return guarded(err, async () => {
    const loaded = loadCatalog(env);
    if (!loaded.ok) {
      err(`tokens: ${loaded.message}\n`);
      return EXIT.failed;
    }
    const person = peopleOf(loaded.catalog).find(user);
    if (!person || !approverIdentities(loaded.catalog).has(person.id)) {
      err(`tokens: "${user}" is not in any approver group of ${loaded.file} (a person of people, or users or slackUsers): a token acts as one catalog approver\n`);
      return EXIT.failed;
    }
    return withStore(env, async (store) => {
      const { token, record } = await store.create(user, { label: opts.label, createdBy: env.USER || undefined });
      out(`${token}\n`);
      err(`token ${record.id} for ${record.user}${person.id !== user ? ` (person ${person.id})` : ''} created. It is shown only now: keep it in a password manager; revoke it with: responder tokens revoke ${record.id}\n`);
      return EXIT.ok;
    });
  });
}

/** `tokens list [--json]`: every token (id, user, label, created, revoked), never a secret. */
export function tokensList(opts: { json?: boolean }, { env, out, err }: Io): Promise<number> {
  return guarded(err, () =>
    withStore(env, async (store, prefix) => {
      const all = await store.list();
      if (opts.json) out(`${JSON.stringify(all, null, 2)}\n`);
      else if (all.length === 0) err(`no tokens (under the Redis prefix "${prefix}")\n`);
      else for (const t of all) out(`${t.id}  ${t.user}  ${t.label ?? '-'}  created ${t.createdAt}${t.createdBy ? ` by ${t.createdBy}` : ''}${t.revokedAt ? `  REVOKED ${t.revokedAt}` : ''}\n`);
      return EXIT.ok;
    }),
  );
}

/** `tokens revoke <id>`: refused with 401 from then on. Exit 1 for an unknown id. */
export function tokensRevoke(id: string, { env, out, err }: Io): Promise<number> {
  return guarded(err, () =>
    withStore(env, async (store, prefix) => {
      const revoked = await store.revoke(id);
      if (!revoked) {
        err(`tokens: no token ${id} (under the Redis prefix "${prefix}")\n`);
        return EXIT.failed;
      }
      out(`token ${revoked.id} of ${revoked.user} revoked at ${revoked.revokedAt}\n`);
      return EXIT.ok;
    }),
  );
}
