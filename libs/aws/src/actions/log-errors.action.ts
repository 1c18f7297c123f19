import { type Action, type ActionContext, type ActionResult, PermanentActionError } from '@responder/domain';
import type { LogEvent, LogsAdapter } from '../logs.adapter';

/**
 * `logs.errors`: the error lines of the service's log groups from shortly before the onset, folded
 * into signatures so that "timeout after 5012 ms" and "timeout after 4987 ms" count as one.
 *
 * `with: { log_groups: [name, ...], since: ISO, filter_pattern?, max_events? }`: FilterLogEvents on
 * each group from `since` − 5 min to now, with `filter_pattern` (default DEFAULT_FILTER_PATTERN:
 * any of the terms), reading at most `max_events` (1-10000, default 1000) events per group.
 *
 * A signature (`errorSignature`) is the event's first line with secrets redacted, then ISO
 * timestamps, UUIDs, quoted strings, IPv4 addresses, hex ids and numbers replaced by placeholders.
 * A JSON line is reduced to its message field first. Output: the exact filter per group, counts,
 * and the TOP_SIGNATURES most frequent signatures with their first and last time seen, the groups
 * they came from, and one sample line (redacted, at most SAMPLE_CHARS characters).
 */

export const LOG_ERRORS_ID = 'logs.errors';
export const DEFAULT_FILTER_PATTERN = '?ERROR ?Error ?error ?Exception ?FATAL';
/** Read from this long before `since`: the first errors often precede the alarm that reports them. */
export const LEAD_MS = 5 * 60_000;
export const TOP_SIGNATURES = 20;
export const SAMPLE_CHARS = 300;
const SIGNATURE_CHARS = 300;

export interface ErrorSignature {
  signature: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  logGroups: string[];
  sample: string;
}

export interface LogGroupRead {
  logGroup: string;
  /** Exactly what FilterLogEvents was given. */
  filterPattern: string;
  startTime: string;
  events: number;
  /** More events matched than were read. */
  truncated: boolean;
}

export interface LogErrorsOutput {
  groups: LogGroupRead[];
  /** Error events read over all groups. */
  events: number;
  truncated: boolean;
  distinctSignatures: number;
  /** The TOP_SIGNATURES most frequent, most frequent first (ties: the earliest first). */
  signatures: ErrorSignature[];
}

export interface LogErrorsParams {
  logGroups: string[];
  since: Date;
  filterPattern: string;
  maxEvents: number;
}

const LOG_GROUP_NAME = /^[\w#/.-]{1,512}$/;

export function logErrorsAction(adapter: LogsAdapter, options: { now?: () => Date } = {}): Action {
  const now = options.now ?? (() => new Date());
  return {
    id: LOG_ERRORS_ID,
    mutating: false,
    description: 'Log errors: error lines of the log groups since shortly before the onset, grouped into signatures with counts (with: { log_groups, since, filter_pattern, max_events }).',
    iam: ['logs:FilterLogEvents'],
    plan: (params) => {
      const p = logErrorsParams(params);
      return { summary: `read error lines of ${p.logGroups.join(', ')} since ${new Date(p.since.getTime() - LEAD_MS).toISOString()}` };
    },
    async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const p = logErrorsParams(params);
      const startTime = p.since.getTime() - LEAD_MS;
      const endTime = now().getTime();
      const reads = await Promise.all(
        p.logGroups.map((logGroup) =>
          adapter.filterEvents({ logGroup, filterPattern: p.filterPattern, startTime, endTime, maxEvents: p.maxEvents }, { abortSignal: ctx.signal }),
        ),
      );
      const output = logErrorsReport(
        p.logGroups.map((logGroup, i) => ({ logGroup, filterPattern: p.filterPattern, startTime, events: reads[i].events, truncated: reads[i].truncated })),
      );
      return { output: output as unknown as Record<string, unknown>, summary: logErrorsSummary(output) };
    },
  };
}

/** `with`, checked. Throws PermanentActionError naming what is wrong. */
export function logErrorsParams(params: Record<string, unknown>): LogErrorsParams {
  const fail = (message: string): never => {
    throw new PermanentActionError(`${LOG_ERRORS_ID}: ${message}`);
  };
  const groups = params.log_groups;
  if (!Array.isArray(groups) || groups.length === 0) fail(`"log_groups" must be a non-empty list of log group names, got ${JSON.stringify(groups) ?? 'nothing'}`);
  const bad = (groups as unknown[]).filter((g) => typeof g !== 'string' || !LOG_GROUP_NAME.test(g));
  if (bad.length > 0) fail(`"log_groups": not a log group name: ${bad.map((g) => JSON.stringify(g) ?? String(g)).join(', ')}`);
  const since = typeof params.since === 'string' ? new Date(params.since) : null;
  if (!since || Number.isNaN(since.getTime())) fail(`"since" must be an ISO time, got ${JSON.stringify(params.since) ?? 'nothing'}`);
  const filterPattern = params.filter_pattern ?? DEFAULT_FILTER_PATTERN;
  if (typeof filterPattern !== 'string' || filterPattern.length > 1024) fail('"filter_pattern" must be a string of at most 1024 characters');
  const maxEvents = params.max_events ?? 1000;
  if (typeof maxEvents !== 'number' || !Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > 10_000) {
    fail(`"max_events" must be a whole number from 1 to 10000, got ${JSON.stringify(maxEvents)}`);
  }
  return { logGroups: [...new Set(groups as string[])], since: since!, filterPattern: filterPattern as string, maxEvents: maxEvents as number };
}

const SECRET_KEY_VALUE = /((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&'"}]+)/gi;

/** The line with obvious secrets replaced: `password=…`, `token=…`, `Authorization: Bearer …`, AWS access key ids. Pure. */
export function redactSecrets(line: string): string {
  return (
    line
      .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 <redacted>')
      // key=value, key: value, "key": "value": a quoted value keeps its quotes, so JSON stays JSON.
      .replace(SECRET_KEY_VALUE, (_, key: string, value: string) => `${key}${/^["']/.test(value) ? `${value[0]}<redacted>${value[0]}` : '<redacted>'}`)
      .replace(/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, '<aws-access-key-id>')
  );
}

const FOLDS: readonly [RegExp, string][] = [
  [/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<time>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/"(?:[^"\\\n]|\\.)*"/g, '"<str>"'],
  [/(?<!\w)'[^'\n]*'/g, "'<str>'"],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g, '<ip>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  // Hex ids: 8 or more hex characters with at least one digit and one letter (a word of only letters stays).
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>'],
  [/\d+(?:\.\d+)?/g, '<n>'],
];

/** The signature of an error event (see the top of this file). Pure. */
export function errorSignature(message: string): string {
  const firstLine = messageOf(message).split('\n').find((l) => l.trim() !== '') ?? '';
  const folded = FOLDS.reduce((s, [pattern, replacement]) => s.replace(pattern, replacement), redactSecrets(firstLine));
  return truncate(folded.replace(/\s+/g, ' ').trim(), SIGNATURE_CHARS);
}

/** A JSON log line's message (`message`, `msg`, `error`, `err.message`), so that its keys and quoting do not become the signature. */
function messageOf(line: string): string {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return line;
  try {
    const parsed = JSON.parse(trimmed) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return line;
    const record = parsed as Record<string, unknown>;
    const err = record.err ?? record.error;
    for (const candidate of [record.message, record.msg, err, typeof err === 'object' && err !== null ? (err as Record<string, unknown>).message : undefined]) {
      if (typeof candidate === 'string' && candidate.trim() !== '') {
        const level = typeof record.level === 'string' ? `${record.level} ` : '';
        return `${level}${candidate}`;
      }
    }
  } catch {
    // Not JSON after all: the line as it is.
  }
  return line;
}

/** Groups events into signatures: all of them counted, the `top` most frequent returned. Pure. */
export function groupErrorLines(events: readonly (LogEvent & { logGroup: string })[], top = TOP_SIGNATURES): { distinct: number; signatures: ErrorSignature[] } {
  const bySignature = new Map<string, { count: number; first: number; last: number; groups: Set<string>; sample: string }>();
  for (const e of [...events].sort((a, b) => a.timestamp - b.timestamp)) {
    const signature = errorSignature(e.message);
    const entry = bySignature.get(signature);
    if (entry) {
      entry.count++;
      entry.last = e.timestamp;
      entry.groups.add(e.logGroup);
    } else {
      bySignature.set(signature, { count: 1, first: e.timestamp, last: e.timestamp, groups: new Set([e.logGroup]), sample: sampleLine(e.message) });
    }
  }
  const signatures = [...bySignature]
    .sort(([, a], [, b]) => b.count - a.count || a.first - b.first)
    .slice(0, top)
    .map(([signature, s]) => ({
      signature,
      count: s.count,
      firstSeen: new Date(s.first).toISOString(),
      lastSeen: new Date(s.last).toISOString(),
      logGroups: [...s.groups],
      sample: s.sample,
    }));
  return { distinct: bySignature.size, signatures };
}

/** One line to show: redacted, whitespace collapsed, at most SAMPLE_CHARS characters. Pure. */
export function sampleLine(message: string): string {
  return truncate(redactSecrets(message).replace(/\s+/g, ' ').trim(), SAMPLE_CHARS);
}

/** The output for what was read from each group. Pure. */
export function logErrorsReport(
  reads: readonly { logGroup: string; filterPattern: string; startTime: number; events: readonly LogEvent[]; truncated: boolean }[],
): LogErrorsOutput {
  const { distinct, signatures } = groupErrorLines(reads.flatMap((r) => r.events.map((e) => ({ ...e, logGroup: r.logGroup }))));
  return {
    groups: reads.map((r) => ({ logGroup: r.logGroup, filterPattern: r.filterPattern, startTime: new Date(r.startTime).toISOString(), events: r.events.length, truncated: r.truncated })),
    events: reads.reduce((n, r) => n + r.events.length, 0),
    truncated: reads.some((r) => r.truncated),
    distinctSignatures: distinct,
    signatures,
  };
}

/** e.g. `412 error lines in 2 log groups, 7 signatures: 300× ERROR db timeout after <n> ms; 100× …`. Pure. */
export function logErrorsSummary(output: LogErrorsOutput): string {
  const where = output.groups.length === 1 ? output.groups[0].logGroup : `${output.groups.length} log groups`;
  if (output.events === 0) return `no error lines in ${where} since ${output.groups[0]?.startTime ?? '?'}`;
  const top = output.signatures.slice(0, 3).map((s) => `${s.count}× ${truncate(s.signature, 80)}`);
  const more = output.truncated ? ' (more not read)' : '';
  return `${output.events} error lines${more} in ${where}, ${output.distinctSignatures} signatures: ${top.join('; ')}`;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
