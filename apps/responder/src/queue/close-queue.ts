import type { Queue, Worker } from 'bullmq';
import type Redis from 'ioredis';

/**
 * Shuts a BullMQ queue and its worker down (SIGTERM): the worker first, so that a job finishing now
 * still queues what follows it, then the queue, bounded by `graceMs`; a job still running after that
 * is handed back by BullMQ's stalled-job check and resumed by another worker. With Redis
 * unreachable, BullMQ's close would wait for a connection that never comes (and no job can be in
 * flight without Redis): the connections are dropped first and the worker closed without waiting.
 */
export async function closeQueue(
  parts: { queue: Queue; worker: Worker | null; connection: Redis; workerConnection: Redis | null },
  graceMs: number,
): Promise<void> {
  const { queue, worker, connection, workerConnection } = parts;
  const reachable = connection.status === 'ready';
  if (!reachable) {
    workerConnection?.disconnect();
    connection.disconnect();
  }
  const closed = (async () => {
    await worker?.close(!reachable).catch(() => undefined);
    await queue.close().catch(() => undefined);
  })();
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
  workerConnection?.disconnect();
  connection.disconnect();
}
