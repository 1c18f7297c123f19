import { writeFileSync } from 'node:fs';
import Redis from 'ioredis';
import { buildRca, rcaInput, renderRcaMarkdown } from '@responder/rca';
import { IncidentStore, RunStore } from '@responder/store';
import { EXIT, type CliIo } from './io';

/**
 * `rca <incident-id> [-o file] [--json]`: the same document as GET /incidents/:id/rca.md (or
 * rca.json), read from Redis ($REDIS_URL, $REDIS_PREFIX) where the service keeps it. Exit 0; 1 when
 * there is no such incident or Redis does not answer.
 */
export async function rca(id: string, opts: { output?: string; json?: boolean }, { env, out, err }: Pick<CliIo, 'env' | 'out' | 'err'>): Promise<number> {
  const prefix = env.REDIS_PREFIX || 'responder';
  // A Redis that stops answering fails the command (exit 1) instead of hanging the terminal.
  const redis = new Redis(env.REDIS_URL || 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, commandTimeout: 10_000 });
  try {
    await redis.connect();
    const incidents = new IncidentStore(redis, { prefix, dedupeTtlSeconds: 60, unattachedMaxLen: 1 });
    const incident = await incidents.get(id);
    if (!incident) {
      err(`no incident ${id} (under the Redis prefix "${prefix}")\n`);
      return EXIT.failed;
    }
    // The same reads and the same rcaInput call as the service's loadRcaInput (apps/responder/src/rca).
    const [timeline, runs] = await Promise.all([incidents.timeline(id), new RunStore(redis, prefix).runsOfIncident(id)]);
    const model = buildRca(rcaInput(incident, timeline, runs));
    const text = opts.json ? `${JSON.stringify(model, null, 2)}\n` : renderRcaMarkdown(model);
    if (opts.output) writeFileSync(opts.output, text);
    else out(text);
    return EXIT.ok;
  } catch (e) {
    err(`rca: ${(e as Error).message}\n`);
    return EXIT.failed;
  } finally {
    redis.disconnect();
  }
}
