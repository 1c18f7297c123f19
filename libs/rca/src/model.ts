import { type Verdict, latestVerdict } from '@responder/diagnosis';
import type { Incident, IncidentStatus, TimelineEntry } from '@responder/domain';
import { day, ms, stamp } from './format';
import { redactDeep } from './redact';

export interface RcaStep {
  id: string;
  action: string;
  status: string;
  /** When absent, a step with a plan or an approval is taken as mutating. */
  mutating?: boolean;
  approval?: string;
  approvedBy?: string;
  approvals?: Array<{ by: string; at?: string }>;
  plan?: string;
  params?: Record<string, unknown>;
  output?: Record<string, unknown>;
  summary?: string;
  error?: string;
  reason?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface RcaRun {
  runbook: string;
  steps: RcaStep[];
}

export interface RcaInput {
  incident: Incident;
  timeline: TimelineEntry[];
  runs: RcaRun[];
  now: Date;
}

/**
 * A piece of prose: a literal (Responder's own words, shown as is), free text from the incident
 * (`{ text }`: escaped when rendered as markdown) or an identifier (`{ code }`: a code span).
 * Sentences are kept as parts, not as markdown, so that the JSON and the markdown are rendered
 * from one value: escaping a whole sentence would escape Responder's words too, and a URL at the
 * end of a value would swallow the punctuation after it.
 */
export type RcaPart = string | { text: string } | { code: string };

export interface RcaProse {
  /** The sentence as plain text (what the markdown says, without the markup). */
  text: string;
  parts: RcaPart[];
}

export interface RcaApproval {
  outcome: 'approved' | 'policy' | 'rejected' | 'timed_out' | 'pending' | 'none';
  /** The people (or `policy:<name>`) who approved or rejected. */
  by: string[];
  reason: string | null;
  /** In words: "approved by alice and bob", "granted by policy:recent-deploy". */
  text: string;
}

export interface RcaTimelineRow {
  id: string;
  at: string;
  type: string;
  /** Time since the onset (or the first entry when the onset is unknown); negative before it. */
  sinceOnsetMs: number;
  event: string;
  /** alarm, Responder, `policy:<name>` or the person. */
  actor: string;
}

export interface RcaFinding {
  runbook: string;
  step: string;
  action: string;
  status: string;
  summary: string | null;
  error: string | null;
  reason: string | null;
  /** The output's scalar fields, in short. */
  highlights: Array<{ key: string; value: RcaProse }>;
  /** The queries and filters a reader re-runs, as the step used them. */
  rerun: Array<{ kind: RcaRerunKind; value: unknown }>;
}

export type RcaRerunKind = 'query' | 'queries' | 'filters';

export interface RcaAction {
  runbook: string;
  step: string;
  action: string;
  status: string;
  approval: RcaApproval;
  plan: string | null;
  summary: string | null;
  error: string | null;
  reason: string | null;
  /** The AWS request id of the call, when the action reported one. */
  requestId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  params: Record<string, unknown> | null;
}

export interface RcaNote {
  id: string;
  at: string;
  by: string | null;
  text: string;
  /** api, slack, or null for a note a runbook step wrote. */
  source: string | null;
}

export interface RcaPromptSection {
  title: 'What went well' | 'What went wrong' | 'Root cause' | 'Follow-ups';
  prompt: string;
  /** Pre-filled where the evidence supports it; the humans complete them. */
  items: RcaProse[];
}

/**
 * The RCA of an incident as data: what `GET /incidents/:id/rca.json` answers and what the markdown
 * is rendered from. Times are UTC ISO strings (null: not happened yet), durations milliseconds.
 */
export interface RcaModel {
  incidentId: string;
  title: RcaProse;
  service: string | null;
  /** The alarm that opened the incident; null for one opened by hand (a manual run) with no alarm yet. */
  alarm: string | null;
  status: IncidentStatus;
  /** Always true: Responder writes drafts, a human confirms every sentence before publishing. */
  draft: boolean;
  /** The moment the draft describes (the incident's last timeline entry, when loaded from the store). */
  writtenAt: string;
  summary: {
    whatHappened: RcaProse;
    impactWindow: { start: string | null; end: string | null; durationMs: number | null; ongoing: boolean };
    status: IncidentStatus;
    /** Set by the responders, never guessed. */
    severity: null;
    mitigations: Array<{ runbook: string; step: string; description: string; approval: string }>;
  };
  keyTimes: { onset: string | null; detected: string | null; firstHumanResponse: string | null; mitigated: string | null; resolved: string | null };
  durations: { toDetectMs: number | null; toAcknowledgeMs: number | null; toMitigateMs: number | null; toResolveMs: number | null };
  timeline: RcaTimelineRow[];
  /** The latest `diagnose` verdict (a hypothesis with its evidence, what it ruled out, the gaps), or null. */
  verdict: Verdict | null;
  findings: RcaFinding[];
  actions: RcaAction[];
  notes: RcaNote[];
  prompts: RcaPromptSection[];
}

const DIAGNOSE = 'diagnose';
const HUMAN_RESPONSES = new Set(['approval.granted', 'approval.recorded', 'approval.rejected', 'note']);
const RERUN_KEYS: readonly RcaRerunKind[] = ['query', 'queries', 'filters'];

/**
 * The RCA draft of an incident as a structured model. Pure: the same input always gives the same
 * model. Every string is redacted first (the RCA is shared beyond the on-call team).
 */
export function buildRca(raw: RcaInput): RcaModel {
  const input = redactDeep(raw);
  const { incident, timeline, runs, now } = input;
  const steps = runs.flatMap((run) => run.steps.map((step) => ({ run, step })));
  const mutating = steps.filter(({ step }) => isMutating(step));
  // The diagnose step is the verdict (its own section), not a finding.
  const diagnostics = steps.filter(({ step }) => !isMutating(step) && step.action !== DIAGNOSE);
  const verdict = latestVerdict(steps.map(({ step }) => step));
  const t = keyTimes(input);
  const firstAlarm = timeline.find((e) => e.type === 'alarm.received');
  const alarmName = str(firstAlarm?.data.alarm) ?? incident.alarms[0]?.name ?? null;
  const openedBy = str(timeline.find((e) => e.type === 'incident.opened' && e.data.manual === true)?.data.by);
  const service = incident.service ?? 'unrouted';
  const reason = str(firstAlarm?.data.reason) ?? incident.alarms[0]?.reason;
  const base = t.onset ?? (timeline[0] ? Date.parse(timeline[0].at) : now.getTime());
  const between = (a?: number, b?: number) => (a !== undefined && b !== undefined ? b - a : null);

  return {
    incidentId: incident.id,
    title: prose('RCA: ', { text: service }, ' — ', { text: alarmName ?? incident.title }, ' — ', day(t.onset ? t.onset : Date.parse(incident.openedAt))),
    service: incident.service,
    alarm: alarmName,
    status: incident.status,
    draft: true,
    writtenAt: now.toISOString(),
    summary: {
      whatHappened:
        alarmName === null
          ? prose('No alarm: the incident for ', { text: service }, ' was opened by hand', ...(openedBy ? [' by ', { text: openedBy }] : []), ' (', { text: incident.title }, ').')
          : prose(
              ...(incident.alarms.length > 1 ? [`${incident.alarms.length} alarms`] : ['alarm ', { text: alarmName }]),
              ' went into ALARM for ',
              { text: service },
              ...(reason ? [': ', { text: reason }] : ['.']),
            ),
      impactWindow: {
        start: t.onset ? iso(t.onset) : null,
        end: t.resolved ? iso(t.resolved) : null,
        durationMs: t.onset ? (t.resolved ? t.resolved : now.getTime()) - t.onset : null,
        ongoing: !t.resolved,
      },
      status: incident.status,
      severity: null,
      mitigations: mutating
        .filter(({ step }) => step.status === 'succeeded')
        .map(({ run, step }) => ({ runbook: run.runbook, step: step.id, description: step.plan ?? step.summary ?? step.action, approval: approvalOf(step, timeline).text })),
    },
    keyTimes: {
      onset: isoOrNull(t.onset),
      detected: isoOrNull(t.detected),
      firstHumanResponse: isoOrNull(t.firstHuman),
      mitigated: isoOrNull(t.mitigated),
      resolved: isoOrNull(t.resolved),
    },
    durations: {
      toDetectMs: between(t.onset, t.detected),
      toAcknowledgeMs: between(t.detected, t.firstHuman),
      toMitigateMs: between(t.onset, t.mitigated),
      toResolveMs: between(t.onset, t.resolved),
    },
    timeline: timeline.map((e) => ({ id: e.id, at: e.at, type: e.type, sinceOnsetMs: Date.parse(e.at) - base, event: describe(e), actor: actor(e) })),
    verdict,
    findings: diagnostics.map(({ run, step }) => ({
      runbook: run.runbook,
      step: step.id,
      action: step.action,
      status: step.status,
      summary: step.summary ?? null,
      error: step.error ?? null,
      reason: step.reason ?? null,
      highlights: Object.entries(step.output ?? {})
        .filter(([key]) => !(RERUN_KEYS as readonly string[]).includes(key))
        .map(([key, value]) => ({ key, value: highlight(value) }))
        .filter((h): h is { key: string; value: RcaProse } => h.value !== undefined),
      rerun: RERUN_KEYS.filter((k) => step.output?.[k] !== undefined).map((kind) => ({ kind, value: step.output?.[kind] })),
    })),
    actions: mutating.map(({ run, step }) => ({
      runbook: run.runbook,
      step: step.id,
      action: step.action,
      status: step.status,
      approval: approvalOf(step, timeline),
      plan: step.plan ?? null,
      summary: step.summary ?? null,
      error: step.error ?? null,
      reason: step.reason ?? null,
      requestId: str(step.output?.requestId) ?? null,
      startedAt: step.startedAt ?? null,
      finishedAt: step.finishedAt ?? null,
      params: step.params ?? null,
    })),
    notes: timeline
      .filter((e) => e.type === 'note')
      .map((e) => ({ id: e.id, at: e.at, by: str(e.data.by) ?? str(e.data.author) ?? null, text: str(e.data.text) ?? '', source: str(e.data.source) ?? null })),
    prompts: prompts(input, t, diagnostics.map((d) => d.step), mutating.map((m) => m.step)),
  };
}

/** Prose from its parts, with its plain text. */
function prose(...parts: RcaPart[]): RcaProse {
  return { text: parts.map(plain).join(''), parts };
}

function plain(part: RcaPart): string {
  if (typeof part === 'string') return part;
  if ('code' in part) return part.code.replace(/\s+/g, ' ');
  return flat(part.text);
}

/** Free text on one line, as the markdown shows it. */
function flat(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

interface KeyTimes {
  onset?: number;
  detected?: number;
  firstHuman?: number;
  mitigated?: number;
  resolved?: number;
}

function keyTimes({ incident, timeline, runs }: RcaInput): KeyTimes {
  const first = (pred: (e: TimelineEntry) => boolean) => ms(timeline.find(pred)?.at);
  const received = timeline.find((e) => e.type === 'alarm.received');
  const mutatingIds = new Set(runs.flatMap((r) => r.steps.filter(isMutating).map((s) => s.id)));
  const fromRuns = runs
    .flatMap((r) => r.steps)
    .filter((s) => isMutating(s) && s.status === 'succeeded')
    .map((s) => ms(s.finishedAt))
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b)[0];
  return {
    onset: ms(str(received?.data.stateChangedAt)) ?? ms(incident.onsetAt),
    detected: first((e) => e.type === 'incident.opened') ?? ms(incident.openedAt),
    firstHuman: first((e) => HUMAN_RESPONSES.has(e.type) && isPerson(str(e.data.by))),
    mitigated: first((e) => e.type === 'step.succeeded' && mutatingIds.has(str(e.data.step) ?? '') && e.data.dryRun !== true) ?? fromRuns,
    resolved: first((e) => e.type === 'incident.resolved') ?? ms(incident.resolvedAt ?? undefined),
  };
}

/** The sections for the humans, pre-filled where the evidence supports a sentence. */
function prompts(input: RcaInput, t: KeyTimes, diagnostics: RcaStep[], mutating: RcaStep[]): RcaPromptSection[] {
  const well: RcaProse[] = [];
  const wrong: RcaProse[] = [];
  const cause: RcaProse[] = [];
  const followUps: RcaProse[] = [];
  if (t.onset !== undefined && t.detected !== undefined) well.push(prose(`Responder opened the incident ${duration(t.detected - t.onset)} after the alarm's onset.`));
  for (const s of mutating.filter((m) => m.status === 'succeeded')) {
    const after = s.finishedAt && t.onset !== undefined ? ` ${duration(Date.parse(s.finishedAt) - t.onset)} after onset` : '';
    well.push(prose({ code: s.id }, ` succeeded${after} (`, { text: approvalOf(s, input.timeline).text }, ').'));
  }
  for (const s of [...diagnostics, ...mutating]) {
    if (s.status === 'failed') wrong.push(prose({ code: s.id }, ' (', { text: s.action }, ') failed', ...(s.error ? [': ', { text: s.error }] : ['.'])));
    if (s.status === 'rejected') wrong.push(prose({ code: s.id }, ' was not run: ', { text: approvalOf(s, input.timeline).text }, '.'));
    if (s.status === 'timed_out') wrong.push(prose({ code: s.id }, ' timed out waiting for an approval.'));
    if (s.status === 'dry-run') wrong.push(prose({ code: s.id }, ' (', { text: s.action }, ') was a dry run: planned, never called; production was not changed.'));
  }
  if (input.incident.status === 'open') wrong.push(prose(`The incident was still open when this draft was written (${stamp(input.now.getTime())}).`));
  const deploy = diagnostics.find((s) => s.output?.correlated === true);
  const rollback = mutating.find((s) => s.action === 'deploy.rollback' && s.status === 'succeeded');
  if (deploy && rollback) {
    const current = deploy.output?.current as { taskDefinition?: unknown; id?: unknown } | undefined;
    const ref = str(current?.taskDefinition) ?? str(current?.id) ?? 'the latest deployment';
    const minutes = typeof deploy.output?.minutesBeforeOnset === 'number' ? ` ${deploy.output.minutesBeforeOnset} minutes after` : ' after';
    const restored = rollback.finishedAt && t.onset !== undefined ? ` ${duration(Date.parse(rollback.finishedAt) - t.onset)} after onset` : '';
    cause.push(
      prose('Likely the deployment ', { code: ref }, `: the alarm began${minutes} it, and rolling back (`, { code: rollback.id }, `) succeeded${restored}. Confirm what in that change caused it.`),
    );
  }
  for (const s of [...diagnostics, ...mutating].filter((x) => x.status === 'failed')) followUps.push(prose('Find out why ', { code: s.id }, ' failed and fix it or the runbook.'));
  return [
    { title: 'What went well', prompt: 'What helped detect, understand or mitigate the incident?', items: well },
    { title: 'What went wrong', prompt: 'What slowed the response or made the impact worse?', items: wrong },
    { title: 'Root cause', prompt: 'Why did it happen? Keep asking why until the answer is something the team can change.', items: cause },
    { title: 'Follow-ups', prompt: 'Actions with an owner and a due date, each linked to a ticket.', items: followUps },
  ];
}

function describe(e: TimelineEntry): string {
  const d = e.data;
  const s = (k: string) => str(d[k]);
  const step = s('step') ? `step ${s('step')}` : 'a step';
  const tail = (k: string) => (s(k) ? `: ${s(k)}` : '');
  switch (e.type) {
    case 'alarm.received':
      return `Alarm ${s('alarm') ?? ''} changed to ${s('state') ?? '?'}${tail('reason')}`;
    case 'incident.opened':
      return `Incident opened for ${s('service') ?? 'an unrouted alarm'}`;
    case 'alarm.attached':
      return `Alarm ${s('alarm') ?? ''} attached to the incident`;
    case 'alarm.stale':
      return `An out-of-date state of alarm ${s('alarm') ?? ''} was ignored`;
    case 'incident.resolved':
      return 'Incident resolved: its alarms are back to OK';
    case 'run.planned':
      return `Runbook ${s('runbook') ?? ''} planned`.trim();
    case 'run.finished':
      return `Runbook run finished${tail('status')}`;
    case 'step.queued':
      return `${cap(step)} queued`;
    case 'step.started':
      return `${cap(step)} started${s('action') ? ` (${s('action')})` : ''}`;
    case 'step.succeeded':
      return `${cap(step)} succeeded${d.dryRun === true ? ' (dry run)' : ''}${tail('summary')}`;
    case 'step.dry-run':
      return `${cap(step)} dry run: planned, not called${tail('summary')}`;
    case 'step.failed':
      return `${cap(step)} failed${tail('error')}`;
    case 'step.skipped':
      return `${cap(step)} skipped${tail('reason')}`;
    case 'step.cancelled':
      return `${cap(step)} cancelled${tail('reason')}`;
    case 'step.held':
      return `${cap(step)} held${tail('reason')}`;
    case 'step.retrying':
      return `${cap(step)} will be retried${tail('error')}`;
    case 'step.resumed':
      return `${cap(step)} resumed after a restart`;
    case 'step.reconciling':
      return `${cap(step)} reconciling${tail('reason')}`;
    case 'step.not_called':
      return `${cap(step)} called again${tail('reason')}`;
    case 'approval.requested':
      return `Approval requested for ${step}${tail('plan')}`;
    case 'approval.recorded':
      return `Approval of ${step} recorded${typeof d.count === 'number' && typeof d.needed === 'number' ? ` (${d.count} of ${d.needed})` : ''}`;
    case 'approval.granted':
      return `${cap(step)} approved${tail('plan')}`;
    case 'approval.rejected':
      return `${cap(step)} rejected${tail('reason')}`;
    case 'approval.stale':
      return `Approval of ${step} refused: the plan changed since it was shown`;
    case 'approval.refused':
      return `Approval of ${step} refused: not an approver`;
    case 'approval.timed_out':
      return `Approval of ${step} timed out`;
    case 'automation.paused':
      return `Automation paused${tail('reason')}`;
    case 'automation.resumed':
      return `Automation resumed${tail('reason')}`;
    case 'note':
      return `Note: ${s('text') ?? ''}`;
    default:
      return e.type;
  }
}

function actor(e: TimelineEntry): string {
  if (e.type.startsWith('alarm.')) return 'alarm';
  const by = str(e.data.by);
  if (!by || by.toLowerCase() === 'responder') return 'Responder';
  return by;
}

function isPerson(by: string | undefined): boolean {
  return !!by && !by.startsWith('policy:') && by.toLowerCase() !== 'responder';
}

function isMutating(step: RcaStep): boolean {
  return step.mutating ?? (step.plan !== undefined || (step.approval !== undefined && step.approval !== 'not_required'));
}

/** Who let a mutating step run (or stopped it). */
function approvalOf(step: RcaStep, timeline: TimelineEntry[]): RcaApproval {
  const about = (type: string) => timeline.find((e) => e.type === type && str(e.data.step) === step.id);
  const rejected = about('approval.rejected');
  if (step.approval === 'rejected' || rejected) {
    const by = str(rejected?.data.by) ?? step.approvedBy;
    const reason = str(rejected?.data.reason);
    return { outcome: 'rejected', by: by ? [by] : [], reason: reason ?? null, text: `rejected by ${by ?? 'someone'}${reason ? `: ${reason}` : ''}` };
  }
  if (step.approval === 'timed_out') return { outcome: 'timed_out', by: [], reason: null, text: 'no decision before the timeout' };
  if (step.approval === 'policy') {
    const by = step.approvedBy ?? str(about('approval.granted')?.data.by) ?? 'policy';
    const policy = by.startsWith('policy') ? by : `policy:${by}`;
    return { outcome: 'policy', by: [policy], reason: null, text: `granted by ${policy}` };
  }
  const people = step.approvals?.map((a) => a.by) ?? [];
  if (step.approvedBy && !people.includes(step.approvedBy)) people.push(step.approvedBy);
  if (people.length) return { outcome: 'approved', by: people, reason: null, text: `approved by ${people.join(' and ')}` };
  const granted = str(about('approval.granted')?.data.by);
  if (granted) return { outcome: 'approved', by: [granted], reason: null, text: `approved by ${granted}` };
  if (step.approval === 'pending') return { outcome: 'pending', by: [], reason: null, text: 'awaiting approval' };
  return { outcome: 'none', by: [], reason: null, text: 'no approval recorded' };
}

/** A short form of an output field: a string (cut at 200 characters), a number, a count, scalars. */
function highlight(value: unknown): RcaProse | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value.length ? prose({ text: value.length > 200 ? `${value.slice(0, 200)}…` : value }) : undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return prose(String(value));
  if (Array.isArray(value)) return prose(`${value.length} item${value.length === 1 ? '' : 's'}`);
  if (typeof value === 'object') {
    const scalars = Object.entries(value as Record<string, unknown>).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v));
    if (!scalars.length) return undefined;
    return prose(...scalars.slice(0, 6).flatMap(([k, v], i): RcaPart[] => [...(i > 0 ? [', '] : []), { text: k }, ' ', { text: String(v as string | number | boolean) }]));
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length ? v : undefined;
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

function isoOrNull(t: number | undefined): string | null {
  return t === undefined ? null : iso(t);
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "9m", "3m 12s", "1h 5m", "2d 3h": the two largest units, zeros dropped. */
export function duration(msValue: number): string {
  const sign = msValue < 0 ? '-' : '';
  let s = Math.round(Math.abs(msValue) / 1000);
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const firstIndex = [d, h, m, s].findIndex((x) => x > 0);
  if (firstIndex < 0) return '0s';
  const units = [d, h, m, s].slice(firstIndex, firstIndex + 2);
  const labels = ['d', 'h', 'm', 's'].slice(firstIndex, firstIndex + 2);
  const shown = units.map((u, i) => (u ? `${u}${labels[i]}` : '')).filter(Boolean);
  return `${sign}${shown.join(' ')}`;
}
