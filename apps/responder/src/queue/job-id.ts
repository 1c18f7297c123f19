/**
 * A deterministic job id from its parts, joined with `-`: the same work asked for twice (two
 * replicas, a retry, recovery at boot, a second delivery of one Slack click) gets the same id, and
 * BullMQ keeps one job. `:` is BullMQ's key separator and is not allowed in a custom id: it becomes `_`.
 */
export function jobId(...parts: string[]): string {
  if (parts.length === 0 || parts.some((p) => p === '')) throw new Error(`a job id needs non-empty parts, got [${parts.map((p) => JSON.stringify(p)).join(', ')}]`);
  return parts.join('-').replace(/:/g, '_');
}
