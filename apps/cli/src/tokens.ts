import { existsSync, readFileSync } from 'node:fs';
import { type Catalog, formatSourceProblem, parseCatalog } from '@responder/domain';
import { ApiTokenStore } from '@responder/store';
import Redis from 'ioredis';

export const TOKENS_USAGE = `tokens create <user> [--label <text>]
                           create a personal API token for a catalog approver (a user name or Slack
                           user id of an approver group); printed once, stored only as a SHA-256
  tokens list              every token: id, user, label, created, revoked
  tokens revoke <id>       revoke a token at once (it is refused with 401 from then on)`;

interface Io {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** The catalog identities a token may act as: whoever an approver group names. */
export function approverIdentities(catalog: Catalog): Set<string> {
  const names = new Set<string>();
  for (const group of Object.values(catalog.approverGroups)) for (const who of [...group.users, ...group.slackUsers]) names.add(who);
  return names;
}

function loadCatalog(env: NodeJS.ProcessEnv): { ok: true; catalog: Catalog; file: string } | { ok: false; message: string } {
  const file = env.SERVICE_CATALOG || `${(env.RUNBOOKS_DIR || 'runbooks').replace(/\/$/, '')}/service-catalog.yaml`;
  if (!existsSync(file)) return { ok: false, message: `no service catalog at ${file} (set SERVICE_CATALOG)` };
  const parsed = parseCatalog(file, readFileSync(file, 'utf8'));
  return parsed.ok ? { ok: true, catalog: parsed.value, file } : { ok: false, message: parsed.problems.map(formatSourceProblem).join('\n') };
}

/** `tokens create|list|revoke`, against Redis ($REDIS_URL, $REDIS_PREFIX). Exit 0, 1 (refused, no Redis), 2 (usage). */
export async function tokens(args: readonly string[], { env, out, err }: Io): Promise<number> {
  const [sub, ...rest] = args;
  const usage = () => {
    err(`usage: npm run cli -- ${TOKENS_USAGE}\n`);
    return 2;
  };
  let label: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--label' && rest[i + 1] !== undefined) label = rest[++i];
    else positional.push(rest[i]);
  }
  if (sub === 'create' ? positional.length !== 1 : sub === 'revoke' ? positional.length !== 1 || label !== undefined : sub === 'list' ? rest.length !== 0 : true) return usage();

  let user: string | undefined;
  if (sub === 'create') {
    const loaded = loadCatalog(env);
    if (!loaded.ok) {
      err(`tokens: ${loaded.message}\n`);
      return 1;
    }
    user = positional[0];
    if (!approverIdentities(loaded.catalog).has(user)) {
      err(`tokens: "${user}" is not in any approver group of ${loaded.file} (users or slackUsers): a token acts as one catalog approver\n`);
      return 1;
    }
  }

  const prefix = env.REDIS_PREFIX || 'responder';
  const redis = new Redis(env.REDIS_URL || 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    const store = new ApiTokenStore(redis, prefix);
    if (sub === 'create') {
      const { token, record } = await store.create(user!, { label, createdBy: env.USER || undefined });
      out(`${token}\n`);
      err(`token ${record.id} for ${record.user} created. It is shown only now: keep it in a password manager; revoke it with: npm run cli -- tokens revoke ${record.id}\n`);
      return 0;
    }
    if (sub === 'list') {
      const all = await store.list();
      if (all.length === 0) out(`no tokens (under the Redis prefix "${prefix}")\n`);
      for (const t of all) out(`${t.id}  ${t.user}  ${t.label ?? '-'}  created ${t.createdAt}${t.createdBy ? ` by ${t.createdBy}` : ''}${t.revokedAt ? `  REVOKED ${t.revokedAt}` : ''}\n`);
      return 0;
    }
    const revoked = await store.revoke(positional[0]);
    if (!revoked) {
      err(`tokens: no token ${positional[0]} (under the Redis prefix "${prefix}")\n`);
      return 1;
    }
    out(`token ${revoked.id} of ${revoked.user} revoked at ${revoked.revokedAt}\n`);
    return 0;
  } catch (e) {
    err(`tokens: ${(e as Error).message}\n`);
    return 1;
  } finally {
    redis.disconnect();
  }
}
