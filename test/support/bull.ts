import { Queue } from 'bullmq';

/**
 * BullMQ itself, on the queue a service's adapter owns (tests look at jobs, or add one by hand,
 * the way a replica or a retry would). Close it in afterAll.
 */
export function bullQueueOf(jobs: { name: string; prefix: string }): Queue {
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  return new Queue(jobs.name, { connection: { host: url.hostname, port: Number(url.port || 6379) }, prefix: jobs.prefix });
}
