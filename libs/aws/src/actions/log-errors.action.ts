import { type Action, type ActionContext, type ActionResult, PermanentActionError, redactSecrets } from '@responder/domain';
import { insightsString, logsInsightsLink } from '../console-links';
import type { LogEvent, LogsAdapter } from '../logs.adapter';

/**
 * `logs.errors`: the error lines of the service's log groups from shortly before the impact began,
 * folded into signatures so that "timeout after 5012 ms" and "timeout after 4987 ms" count as one.
 *
 * `with: { log_groups: [name, ...], since: ISO, margin_minutes?, filter_pattern?, max_events? }`:
 * FilterLogEvents on each group from `since` − `margin_minutes` (0-1440, default 10) to now, with
 * `filter_pattern` (default DEFAULT_FILTER_PATTERN: any of the terms), reading at most `max_events`
 * (1-10000, default 1000) events per group. production-down passes the metrics step's
 * `impactStartedAt` (else the onset) as `since`: the line that started an incident often comes
 * well before the alarm.
 *
 * The filter only narrows what is read: CloudWatch Logs matches terms case-sensitively inside any
 * text (`?error` matches "INFO … no errors"), and emulators may treat `?term` patterns as match-all.
 * So every event is checked again in code (`severityOf`): a line whose own level says INFO, DEBUG,
 * WARN… is never an error, whatever words it contains.
 *
 * A signature (`errorSignature`) is the event's first line with secrets redacted, then ISO
 * timestamps, UUIDs, quoted strings, IPv4 addresses, hex ids and numbers replaced by placeholders.
 * A JSON line is reduced to its message field first. Output: the exact filter per group, counts,
 * and the TOP_SIGNATURES most frequent signatures with their first and last time seen, the groups
 * they came from, and one sample line (redacted, at most SAMPLE_CHARS characters).
 */

export const LOG_ERRORS_ID = 'logs.errors';
export const DEFAULT_FILTER_PATTERN = '?ERROR ?Error ?error ?Exception ?FATAL';
/** Read from this many minutes before `since` by default: the first errors often precede the alarm that reports them. */
export const DEFAULT_MARGIN_MINUTES = 10;
export const TOP_SIGNATURES = 20;
export const SAMPLE_CHARS = 300;
const SIGNATURE_CHARS = 300;

export type Severity = 'FATAL' | 'PANIC' | 'CRITICAL' | 'ERROR' | 'EXCEPTION';

export interface ErrorSignature {
  signature: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  logGroups: string[];
  sample: string;
  /** The most severe severity its lines had (absent from outputs stored before it existed). */
  severity?: Severity;
  /** Logs Insights on these groups, this signature's text, from the start of the read to its end. */
  link?: string | null;
}

export interface LogGroupRead {
  logGroup: string;
  /** Exactly what FilterLogEvents was given. */
  filterPattern: string;
  startTime: string;
  /** Error events in the group (matched by the filter AND an error by `severityOf`). */
  events: number;
  /** Events the filter matched that were not errors (an INFO line saying "no errors"). */
  ignored?: number;
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
  /** Filter matches that were not errors, over all groups. */
  ignored?: number;
  /** `since` as given, and what was read: [from = since − margin, to]. */
  since?: string;
  marginMinutes?: number;
  from?: string;
  to?: string;
  /** Logs Insights on all the groups, error lines, over [from, to]; null when the region is unknown. */
  link?: string | null;
}

export interface LogErrorsParams {
  logGroups: string[];
  since: Date;
  marginMinutes: number;
  filterPattern: string;
  maxEvents: number;
}

const LOG_GROUP_NAME = /^[\w#/.-]{1,512}$/;

export function logErrorsAction(adapter: LogsAdapter, options: { now?: () => Date } = {}): Action {
  const now = options.now ?? (() => new Date());
  return {
    id: LOG_ERRORS_ID,
    mutating: false,
    description:
      'Log errors: error lines of the log groups since shortly before the impact began, grouped into signatures with counts, severity and first/last seen (with: { log_groups, since, margin_minutes, filter_pattern, max_events }).',
    iam: ['logs:FilterLogEvents'],
    plan: (params) => {
      const p = logErrorsParams(params);
      return { summary: `read error lines of ${p.logGroups.join(', ')} since ${new Date(p.since.getTime() - p.marginMinutes * 60_000).toISOString()}` };
    },
    async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const p = logErrorsParams(params);
      const startTime = p.since.getTime() - p.marginMinutes * 60_000;
      const endTime = now().getTime();
      const [reads, region] = await Promise.all([
        Promise.all(
          p.logGroups.map((logGroup) =>
            adapter.filterEvents({ logGroup, filterPattern: p.filterPattern, startTime, endTime, maxEvents: p.maxEvents }, { abortSignal: ctx.signal }),
          ),
        ),
        adapter.region(),
      ]);
      const output = logErrorsReport(
        p.logGroups.map((logGroup, i) => ({ logGroup, filterPattern: p.filterPattern, startTime, events: reads[i].events, truncated: reads[i].truncated })),
        { since: p.since.getTime(), marginMinutes: p.marginMinutes, endTime, region },
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
  const marginMinutes = params.margin_minutes ?? DEFAULT_MARGIN_MINUTES;
  if (typeof marginMinutes !== 'number' || !Number.isFinite(marginMinutes) || marginMinutes < 0 || marginMinutes > 1440) {
    fail(`"margin_minutes" must be a number from 0 to 1440, got ${JSON.stringify(marginMinutes)}`);
  }
  const filterPattern = params.filter_pattern ?? DEFAULT_FILTER_PATTERN;
  if (typeof filterPattern !== 'string' || filterPattern.length > 1024) fail('"filter_pattern" must be a string of at most 1024 characters');
  const maxEvents = params.max_events ?? 1000;
  if (typeof maxEvents !== 'number' || !Number.isInteger(maxEvents) || maxEvents < 1 || maxEvents > 10_000) {
    fail(`"max_events" must be a whole number from 1 to 10000, got ${JSON.stringify(maxEvents)}`);
  }
  return { logGroups: [...new Set(groups as string[])], since: since!, marginMinutes: marginMinutes as number, filterPattern: filterPattern as string, maxEvents: maxEvents as number };
}

/** Levels that are not errors: a line that declares one of them is never an error signature. */
const NOT_ERROR_LEVELS = new Set(['TRACE', 'DEBUG', 'FINE', 'FINER', 'FINEST', 'INFO', 'NOTICE', 'WARN', 'WARNING']);
const LEVEL_SEVERITY: Record<string, Severity> = {
  ERROR: 'ERROR', ERR: 'ERROR', SEVERE: 'CRITICAL', CRITICAL: 'CRITICAL', CRIT: 'CRITICAL', ALERT: 'CRITICAL', EMERG: 'CRITICAL',
  EMERGENCY: 'CRITICAL', FATAL: 'FATAL', PANIC: 'PANIC',
};
const LEVELS = 'TRACE|DEBUG|FINEST|FINER|FINE|INFO|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|CRITICAL|CRIT|ALERT|EMERG|EMERGENCY|FATAL|PANIC';
/** A level in capitals as its own word (`INFO`, `[ERROR]`): a lower-case "fine" or "alert" in a sentence is not a level. */
const LEVEL_UPPER = new RegExp(`(?:^|[\\s[(|:=<"'])(${LEVELS})(?=$|[\\s\\]):|>"',])`);
/** A level in any case where the line marks it as one: `[info]`, `<warn>`, `level=info`, `severity: "error"`. */
const LEVEL_TAGGED = new RegExp(`(?:\\[|<|\\b(?:level|severity|lvl)\\s*[=:]\\s*["']?)(${LEVELS})\\b`, 'i');
/** Pino / bunyan numeric levels. */
const NUMERIC_LEVEL: [number, Severity | null][] = [[60, 'FATAL'], [50, 'ERROR'], [0, null]];
/** Where a line declares no level: error words as CloudWatch's default terms would find them, but as words. */
const ERROR_WORDS: [RegExp, Severity][] = [
  [/\bFATAL\b|\bfatal error\b/, 'FATAL'],
  [/\bpanic(?::|\b(?=.*goroutine))|\bPANIC\b/, 'PANIC'],
  [/\b(?:CRITICAL|SEVERE)\b/, 'CRITICAL'],
  [/\w*Exception\b|^Traceback \(most recent call last\)/, 'EXCEPTION'],
  [/\bERROR\b|\w*Error\b|\berror\b/, 'ERROR'],
];
const SEVERITY_RANK: Record<Severity, number> = { FATAL: 5, PANIC: 4, CRITICAL: 3, ERROR: 2, EXCEPTION: 1 };

/**
 * The severity of a log event, or null when it is not an error. A JSON line's `level` / `severity`
 * field decides (pino's 50/60 too); a plain line's first level within its first 80 characters (a capitalised
 * word, or a marked one: `[info]`, `level=warn`) decides (`2026-… INFO served in 12 ms, no errors` is INFO: null). Without a level, the error words
 * (as words, so "errors" or "terror" do not count; `TypeError`, `NullPointerException` do). Pure.
 */
export function severityOf(message: string): Severity | null {
  const trimmed = message.trim();
  if (trimmed.startsWith('{')) {
    try {
      const record = JSON.parse(trimmed) as unknown;
      if (typeof record === 'object' && record !== null) {
        const r = record as Record<string, unknown>;
        const level = r.level ?? r.severity ?? r.levelname ?? r.log_level ?? r['log.level'];
        if (typeof level === 'number') return NUMERIC_LEVEL.find(([min]) => level >= min)![1];
        if (typeof level === 'string') return levelSeverity(level.toUpperCase());
      }
    } catch {
      // Not JSON after all: read as plain text.
    }
  }
  const firstLine = trimmed.split('\n', 1)[0];
  const head = firstLine.slice(0, 80);
  const level = [LEVEL_UPPER.exec(head), LEVEL_TAGGED.exec(head)].filter((m) => m !== null).sort((a, b) => a.index - b.index)[0];
  if (level) return levelSeverity(level[1].toUpperCase());
  for (const [pattern, severity] of ERROR_WORDS) if (pattern.test(trimmed)) return severity;
  return null;
}

function levelSeverity(level: string): Severity | null {
  if (NOT_ERROR_LEVELS.has(level)) return null;
  return LEVEL_SEVERITY[level] ?? null;
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
export function groupErrorLines(
  events: readonly (LogEvent & { logGroup: string; severity?: Severity })[],
  top = TOP_SIGNATURES,
): { distinct: number; signatures: ErrorSignature[] } {
  const bySignature = new Map<string, { count: number; first: number; last: number; groups: Set<string>; sample: string; severity: Severity }>();
  for (const e of [...events].sort((a, b) => a.timestamp - b.timestamp)) {
    const signature = errorSignature(e.message);
    const severity = e.severity ?? severityOf(e.message) ?? 'ERROR';
    const entry = bySignature.get(signature);
    if (entry) {
      entry.count++;
      entry.last = e.timestamp;
      entry.groups.add(e.logGroup);
      if (SEVERITY_RANK[severity] > SEVERITY_RANK[entry.severity]) entry.severity = severity;
    } else {
      bySignature.set(signature, { count: 1, first: e.timestamp, last: e.timestamp, groups: new Set([e.logGroup]), sample: sampleLine(e.message), severity });
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
      severity: s.severity,
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
  context: { since?: number; marginMinutes?: number; endTime?: number; region?: string | null } = {},
): LogErrorsOutput {
  const checked = reads.map((r) => {
    const errors = r.events.flatMap((e) => {
      const severity = severityOf(e.message);
      return severity ? [{ ...e, logGroup: r.logGroup, severity }] : [];
    });
    return { read: r, errors, ignored: r.events.length - errors.length };
  });
  const { distinct, signatures } = groupErrorLines(checked.flatMap((c) => c.errors));
  const logGroups = reads.map((r) => r.logGroup);
  const from = reads.length > 0 ? new Date(Math.min(...reads.map((r) => r.startTime))).toISOString() : undefined;
  const to = context.endTime !== undefined ? new Date(context.endTime).toISOString() : undefined;
  const insights = (query: string): string | null => (from && to ? logsInsightsLink(context.region, logGroups, query, { start: from, end: to }) : null);
  const errorQuery = `fields @timestamp, @logStream, @message\n| filter @message like /${ERROR_REGEX}/\n| sort @timestamp asc\n| limit 1000`;
  return {
    groups: checked.map(({ read: r, errors, ignored }) => ({
      logGroup: r.logGroup,
      filterPattern: r.filterPattern,
      startTime: new Date(r.startTime).toISOString(),
      events: errors.length,
      ignored,
      truncated: r.truncated,
    })),
    events: checked.reduce((n, c) => n + c.errors.length, 0),
    truncated: reads.some((r) => r.truncated),
    distinctSignatures: distinct,
    signatures: signatures.map((sig) => {
      const literal = signatureLiteral(sig.signature);
      return { ...sig, link: insights(literal ? `fields @timestamp, @logStream, @message\n| filter @message like ${insightsString(literal)}\n| sort @timestamp asc\n| limit 1000` : errorQuery) };
    }),
    ignored: checked.reduce((n, c) => n + c.ignored, 0),
    ...(context.since !== undefined ? { since: new Date(context.since).toISOString() } : {}),
    ...(context.marginMinutes !== undefined ? { marginMinutes: context.marginMinutes } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    link: insights(errorQuery),
  };
}

/** The Logs Insights regex for error lines in the step's link (case-sensitive, as the default filter). */
const ERROR_REGEX = 'FATAL|PANIC|CRITICAL|ERROR|Error|error|Exception';

/**
 * The longest literal stretch of a signature (between its placeholders), to find its lines in Logs
 * Insights; null when none is 6 characters or longer. Pure.
 */
export function signatureLiteral(signature: string): string | null {
  const parts = signature
    .split(/<(?:n|time|uuid|ip|hex)>|\[REDACTED\]|"<str>"|'<str>'|…/)
    .map((p) => p.trim())
    .filter((p) => p.length >= 6)
    .sort((a, b) => b.length - a.length);
  return parts[0] ?? null;
}

/** e.g. `412 error lines in 2 log groups, 7 signatures: 300× ERROR db timeout after <n> ms; 100× …`. Pure. */
export function logErrorsSummary(output: LogErrorsOutput): string {
  const where = output.groups.length === 1 ? output.groups[0].logGroup : `${output.groups.length} log groups`;
  const ignored = output.ignored ? ` (${output.ignored} matching lines were not errors)` : '';
  if (output.events === 0) return `no error lines in ${where} since ${output.groups[0]?.startTime ?? '?'}${ignored}`;
  const top = output.signatures.slice(0, 3).map((s) => `${s.count}× ${truncate(s.signature, 80)}`);
  const more = output.truncated ? ' (more not read)' : '';
  return `${output.events} error lines${more} in ${where}, ${output.distinctSignatures} signatures: ${top.join('; ')}`;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
