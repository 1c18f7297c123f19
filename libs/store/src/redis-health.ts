import type { Redis } from 'ioredis';

/**
 * What production Redis should be for Responder: persistent (AOF or RDB
 * snapshots) and `noeviction`, or incidents and queued steps can silently vanish. Read from INFO,
 * which ElastiCache allows (CONFIG GET it does not).
 */
export async function redisDurabilityWarnings(redis: Redis): Promise<string[]> {
  const info = await redis.info();
  const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const warnings: string[] = [];
  const aof = field('aof_enabled');
  // INFO does not say whether RDB snapshots are configured (CONFIG GET save would, where allowed):
  // AOF is what a job queue needs anyway, so that is what is checked.
  if (aof !== '1') {
    warnings.push(
      `Redis has no append-only file (aof_enabled:${aof ?? '?'}): incidents and queued steps may be lost on a restart; run Redis with appendonly yes`,
    );
  }
  const policy = field('maxmemory_policy');
  if (policy !== undefined && policy !== 'noeviction') {
    warnings.push(`Redis maxmemory-policy is ${policy}: under memory pressure it evicts incidents and jobs; set it to noeviction`);
  }
  return warnings;
}
