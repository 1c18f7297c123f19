import { type Incident, type IncidentStatus, type PostmortemStatus, type TimelineEntry, type Verdict, latestVerdict, redactDeep } from '@responder/domain';
import { day, ms, stamp } from './format';
import { type RcaFailedRequests, failedRequests } from './impact';
import { type RcaOutcome, classifyOutcome } from './outcome';

export interface RcaStep {
  id: string;
  action: string;
  status: string;
  /** When absent, a step with a plan or an approval is taken as mutating. */
  mutating?: boolean;
  approval?: string;
  approvedBy?: string;
  /** One per person (a catalog person id); `via` the channel (slack, token, oidc), `as` the name the credential carried. */
  approvals?: Array<{ by: string; at?: string; via?: string; as?: string }>;
  plan?: string;
  params?: Record<string, unknown>;
  output?: Record<string, unknown>;
  summary?: string;
  error?: string;
  reason?: string;
  /** A mutating step's goal, verified after its call: met, or missed (the call was made and did not work). */
  goal?: 'met' | 'missed';
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
  /** What the step found, as sentences: the verdict's evidence from this step first, then its summary and details. */
  sentences: RcaProse[];
  /** The output's scalar fields, in short (lists are in the sentences, never a count of items). */
  highlights: Array<{ key: string; value: RcaProse }>;
  /** The queries and filters a reader re-runs, as the step used them. */
  rerun: Array<{ kind: RcaRerunKind; value: unknown }>;
  /** Console pages that show this evidence (every `link` in the step's output), deduplicated. */
  links: string[];
  startedAt: string | null;
  finishedAt: string | null;
}

/**
 * `metric`: a CloudWatch query of cloudwatch.metrics (`metrics[].query`); `logs`: a log group read
 * of logs.errors with its filter pattern (`groups[]`); `query` / `queries` / `filters`: an output's
 * own fields of those names (other actions).
 */
export type RcaRerunKind = 'query' | 'queries' | 'filters' | 'metric' | 'logs';

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
  /** Its goal after the call (met, missed), or null when it had none or never got there. */
  goal: 'met' | 'missed' | null;
  /** The AWS request id of the call, when the action reported one. */
  requestId: string | null;
  /** False when no call was made (skipped, rejected, timed out, a dry run, waiting, nothing to change). */
  called: boolean;
  /** Why it was not called, in words; null when it was. */
  notCalled: string | null;
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
  title: 'What went well' | 'What went wrong' | 'Where we got lucky' | 'Root cause';
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
  /** True until the postmortem's owner publishes it: Responder writes drafts, people confirm every sentence. */
  draft: boolean;
  /** The postmortem's life: its status (draft, in review, published) and owner, set by people. */
  postmortem: { status: PostmortemStatus; label: 'draft' | 'in review' | 'published'; owner: string | null; updatedBy: string | null; updatedAt: string | null };
  /** How the incident was mitigated, the times of its phases and, for a deployment, its recovery time. */
  outcome: RcaOutcome;
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
  /**
   * `onset`: when the impact started (the verdict's, else the metrics step's `impactStartedAt`, when
   * earlier than the alarm), else the alarm's state change; `alarm`: the alarm's state change.
   */
  keyTimes: { onset: string | null; alarm: string | null; detected: string | null; firstHumanResponse: string | null; mitigated: string | null; resolved: string | null };
  durations: { toDetectMs: number | null; toAcknowledgeMs: number | null; toMitigateMs: number | null; toResolveMs: number | null };
  timeline: RcaTimelineRow[];
  /** The latest `diagnose` verdict (a hypothesis with its evidence, what it ruled out, the gaps), or null. */
  verdict: Verdict | null;
  findings: RcaFinding[];
  actions: RcaAction[];
  notes: RcaNote[];
  prompts: RcaPromptSection[];
  /** Impact in figures, from the metrics step: the alarm's metric and the 5xx count around the incident. */
  impact: { alarmMetric: RcaMetricFigure | null; errors5xx: RcaMetricFigure | null; failedRequests: RcaFailedRequests };
  /** The timeline condensed to decisions and turning points (the full log stays in `timeline`). */
  decisions: RcaTimelineRow[];
  /** Follow-ups pre-filled where the evidence supports them; owner and due date are for the humans. */
  actionItems: RcaActionItem[];
  /** "5 whys", seeded from the verdict: the first answer is its hypothesis, the rest for the humans. */
  whys: Array<{ why: RcaProse; answer: RcaProse | null }>;
}

export interface RcaMetricFigure {
  label: string;
  baseline: number | null;
  peak: number | null;
  peakAt: string | null;
  startedMovingAt: string | null;
  link: string | null;
  /** The points the metrics step kept (`[epoch ms, value]`), for the chart; null when it kept none. */
  series: Array<[number, number]> | null;
}

export interface RcaActionItem {
  item: RcaProse;
  kind: 'prevent' | 'mitigate' | 'detect';
  owner: string | null;
  due: string | null;
}

/** Timeline entries that are decisions or turning points (not "step queued / started"). */
const TURNING_POINTS = new Set([
  'alarm.received',
  'incident.opened',
  'incident.resolved',
  'approval.requested',
  'approval.granted',
  'approval.rejected',
  'approval.timed_out',
  'approval.stale',
  'step.failed',
  'mitigation.goal_met',
  'mitigation.goal_missed',
  'automation.paused',
  'automation.resumed',
  'note',
]);

const DIAGNOSE = 'diagnose';
const HUMAN_RESPONSES = new Set(['approval.granted', 'approval.recorded', 'approval.rejected', 'note']);
const RERUN_KEYS: readonly RcaRerunKind[] = ['query', 'queries', 'filters'];
/** Steps that wait or write a note find nothing (a settle wait is not a finding). */
const NOT_FINDINGS = new Set([DIAGNOSE, 'wait', 'note']);
/** Output fields that are no highlight: shown as links, request ids or sentences. */
const NOT_HIGHLIGHTS = new Set(['link', 'requestId', 'window', 'limits']);

/**
 * The RCA draft of an incident as a structured model. Pure: the same input always gives the same
 * model. Every string is redacted first (the RCA is shared beyond the on-call team).
 */
export function buildRca(raw: RcaInput): RcaModel {
  const input = redactDeep(raw);
  const { incident, timeline, runs, now } = input;
  const steps = runs.flatMap((run) => run.steps.map((step) => ({ run, step })));
  const mutating = steps.filter(({ step }) => isMutating(step));
  // The diagnose step is the verdict (its own section), not a finding; nor is a settle wait.
  const diagnostics = steps.filter(({ step }) => !isMutating(step) && !NOT_FINDINGS.has(step.action));
  const verdict = latestVerdict(steps.map(({ step }) => step));
  const t = keyTimes(input, impactStartOf(verdict, steps.map(({ step }) => step)));
  const mutatingStepIds = new Set(mutating.map(({ step }) => step.id));
  const firstAlarm = timeline.find((e) => e.type === 'alarm.received');
  const alarmName = str(firstAlarm?.data.alarm) ?? incident.alarms[0]?.name ?? null;
  const openedBy = str(timeline.find((e) => e.type === 'incident.opened' && e.data.manual === true)?.data.by);
  const service = incident.service ?? 'unrouted';
  const reason = str(firstAlarm?.data.reason) ?? incident.alarms[0]?.reason;
  const base = t.onset ?? (timeline[0] ? Date.parse(timeline[0].at) : now.getTime());
  const between = (a?: number, b?: number) => (a !== undefined && b !== undefined ? b - a : null);
  const pm = incident.postmortem ?? { status: 'draft' as const, owner: null, updatedBy: null, updatedAt: null };
  const impactStart = impactStartOf(verdict, steps.map(({ step }) => step));
  const changed = mutating.filter(({ step }) => changedProduction(step));
  const metricsStep = steps.filter(({ step }) => step.status === 'succeeded' && Array.isArray(step.output?.metrics)).at(-1)?.step;

  return {
    incidentId: incident.id,
    title: prose('RCA: ', { text: service }, ' — ', { text: alarmName ?? incident.title }, ' — ', day(t.onset ? t.onset : Date.parse(incident.openedAt))),
    service: incident.service,
    alarm: alarmName,
    status: incident.status,
    draft: pm.status !== 'published',
    postmortem: { status: pm.status, label: pm.status === 'review' ? 'in review' : pm.status, owner: pm.owner, updatedBy: pm.updatedBy, updatedAt: pm.updatedAt },
    outcome: classifyOutcome({
      resolved: incident.status === 'resolved',
      cause: verdict?.cause ?? null,
      impactStart,
      onset: t.onset,
      alarm: t.alarm,
      verdictAt: ms(timeline.find((e) => e.type === 'step.succeeded' && str(e.data.action) === DIAGNOSE)?.at) ?? ms(steps.find(({ step }) => step.action === DIAGNOSE && step.status === 'succeeded')?.step.finishedAt),
      firstHuman: t.firstHuman,
      mitigated: t.mitigated,
      recoveredAt: t.resolved,
      changes: changed.map(({ step }) => {
        const a = approvalOf(step, timeline).outcome;
        return { step: step.id, approval: a === 'policy' ? 'policy' : a === 'approved' ? 'approved' : 'other' };
      }),
      missedGoals: mutating.filter(({ step }) => step.goal === 'missed').map(({ step }) => step.id),
    }),
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
      mitigations: changed
        .map(({ run, step }) => ({ runbook: run.runbook, step: step.id, description: step.plan ?? step.summary ?? step.action, approval: approvalOf(step, timeline).text })),
    },
    keyTimes: {
      onset: isoOrNull(t.onset),
      alarm: isoOrNull(t.alarm),
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
    findings: byRelevance(diagnostics, verdict).map(({ run, step }) => ({
      runbook: run.runbook,
      step: step.id,
      action: step.action,
      status: step.status,
      summary: step.summary ?? null,
      error: step.error ?? null,
      reason: step.reason ?? null,
      sentences: sentencesOf(step, verdict),
      highlights: Object.entries(step.output ?? {})
        .filter(([key]) => !(RERUN_KEYS as readonly string[]).includes(key) && !NOT_HIGHLIGHTS.has(key))
        .map(([key, value]) => ({ key, value: highlight(value) }))
        .filter((h): h is { key: string; value: RcaProse } => h.value !== undefined),
      rerun: rerunOf(step.output),
      links: linksIn(step.output),
      startedAt: step.startedAt ?? null,
      finishedAt: step.finishedAt ?? null,
    })),
    // The calls that were made first (in the order they ran), then the steps that made none.
    actions: [...mutating.filter(({ step }) => notCalledReason(step, timeline) === null), ...mutating.filter(({ step }) => notCalledReason(step, timeline) !== null)].map(({ run, step }) => ({
      runbook: run.runbook,
      step: step.id,
      action: step.action,
      status: step.status,
      approval: approvalOf(step, timeline),
      plan: step.plan ?? null,
      summary: step.summary ?? null,
      error: step.error ?? null,
      reason: step.reason ?? null,
      goal: step.goal ?? null,
      requestId: str(step.output?.requestId) ?? null,
      called: notCalledReason(step, timeline) === null,
      notCalled: notCalledReason(step, timeline),
      startedAt: step.startedAt ?? null,
      finishedAt: step.finishedAt ?? null,
      params: step.params ?? null,
    })),
    notes: timeline
      .filter((e) => e.type === 'note')
      .map((e) => ({ id: e.id, at: e.at, by: str(e.data.by) ?? str(e.data.author) ?? null, text: str(e.data.text) ?? '', source: str(e.data.source) ?? null })),
    prompts: prompts(input, t, diagnostics.map((d) => d.step), mutating.map((m) => m.step)),
    impact: {
      ...impactFigures(steps.map(({ step }) => step)),
      failedRequests: failedRequests(metricsStep ? arr(metricsStep.output?.metrics) : null, t.onset, t.resolved ?? now.getTime(), t.resolved !== undefined ? 'recovery' : 'now'),
    },
    decisions: timeline
      .filter((e) => TURNING_POINTS.has(e.type) || (e.type === 'step.succeeded' && (mutatingStepIds.has(str(e.data.step) ?? '') || str(e.data.action) === DIAGNOSE)))
      .map((e) => ({ id: e.id, at: e.at, type: e.type, sinceOnsetMs: Date.parse(e.at) - base, event: describe(e), actor: actor(e) })),
    actionItems: actionItems(input, t, verdict, [...diagnostics, ...mutating].map(({ step }) => step)),
    whys: whys(service, verdict),
  };
}

/** A mutating step that changed production: it succeeded for real (not a dry run) and did not report that it had nothing to change. */
function changedProduction(step: RcaStep): boolean {
  return isMutating(step) && step.status === 'succeeded' && step.output?.skipped !== true;
}

/** Why a mutating step made no call, in words; null when it made one (succeeded or failed). */
function notCalledReason(step: RcaStep, timeline: TimelineEntry[]): string | null {
  const reason = step.reason ? `: ${step.reason}` : '';
  switch (step.status) {
    case 'succeeded':
      return step.output?.skipped === true ? `nothing to change${str(step.output.reason) ? ` (${str(step.output.reason)})` : ''}${step.summary ? `: ${step.summary}` : ''}` : null;
    case 'failed':
      return null;
    case 'skipped':
      return step.reason?.startsWith('when was false: ') ? `its condition was false: ${step.reason.slice('when was false: '.length)}` : `skipped${reason}`;
    case 'rejected':
      return approvalOf(step, timeline).text;
    case 'timed_out':
      return 'no one approved it before the approval timed out';
    case 'dry-run':
      return 'a dry run: planned, never called; production was not changed';
    case 'cancelled':
      return `cancelled${reason}`;
    case 'awaiting_approval':
      return 'not yet: it waits for an approval';
    default:
      return `not yet (${step.status})${reason}`;
  }
}

function impactFigures(steps: RcaStep[]): Omit<RcaModel['impact'], 'failedRequests'> {
  const metrics = steps.filter((s) => s.status === 'succeeded' && Array.isArray(s.output?.metrics)).at(-1);
  const all = arr(metrics?.output?.metrics);
  const figure = (m: Record<string, unknown> | undefined): RcaMetricFigure | null =>
    m
      ? {
          label: str(m.label) ?? str(m.id) ?? 'metric',
          baseline: num(m.baseline) ?? null,
          peak: num(m.peak) ?? null,
          peakAt: str(m.peakAt) ?? null,
          startedMovingAt: str(m.startedMovingAt) ?? null,
          link: str(m.link) ?? null,
          series: Array.isArray(m.series) && m.series.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number' && Number.isFinite(x))) && m.series.length > 1 ? (m.series as Array<[number, number]>) : null,
        }
      : null;
  const impactMetric = str(metrics?.output?.impactMetric);
  const alarm = all.find((m) => str(m.id)?.startsWith('alarm')) ?? all.find((m) => m.id === impactMetric);
  // The 5xx count that peaked highest (the load balancer's or a target group's).
  const errors = all
    .filter((m) => /5XX/i.test(str((m.query as Record<string, unknown> | undefined)?.name) ?? ''))
    .sort((a, b) => (num(b.peak) ?? -1) - (num(a.peak) ?? -1))[0];
  return { alarmMetric: figure(alarm), errors5xx: figure(errors) };
}

/** Follow-ups the evidence supports; the kinds follow the usual prevent / mitigate / detect split. */
function actionItems(input: RcaInput, t: KeyTimes, verdict: Verdict | null, steps: RcaStep[]): RcaActionItem[] {
  const items: RcaActionItem[] = [];
  const add = (kind: RcaActionItem['kind'], ...parts: RcaPart[]) => items.push({ item: prose(...parts), kind, owner: null, due: null });
  const service = input.incident.service ?? 'the service';
  if (verdict && verdict.cause !== 'unknown') {
    add('prevent', 'Fix what the verdict blames, once confirmed: ', { text: verdict.summary });
    if (verdict.cause === 'deployment') add('prevent', 'Catch this kind of change before it reaches production for ', { text: service }, ' (a test, a canary, or a deployment alarm that rolls back on its own).');
    if (verdict.cause === 'capacity') add('mitigate', 'Review the auto scaling of ', { text: service }, ' (its maximum and the metric it scales on).');
  }
  if (t.onset !== undefined && t.alarm !== undefined && t.alarm - t.onset >= 5 * 60_000) {
    add('detect', `Alarm sooner: the impact began ${duration(t.alarm - t.onset)} before the alarm fired (fewer evaluation periods, or an alarm on the 5xx rate).`);
  }
  for (const g of verdict?.gaps ?? []) add('detect', 'Close the diagnostic gap ', { code: g.step }, ': ', { text: g.reason });
  for (const s of steps.filter((x) => x.status === 'failed')) add('mitigate', 'Make ', { code: s.id }, ' (', { text: s.action }, ') work: ', { text: s.error ?? 'it failed' });
  for (const s of steps.filter((x) => x.status === 'timed_out')) add('mitigate', 'Make sure an approver sees requests like ', { code: s.id }, ' in time (it timed out).');
  return items;
}

function whys(service: string, verdict: Verdict | null): RcaModel['whys'] {
  const rows: RcaModel['whys'] = [{ why: prose('Why did ', { text: service }, ' fail?'), answer: verdict && verdict.cause !== 'unknown' ? prose({ text: verdict.summary }, ' (hypothesis)') : null }];
  for (let i = 2; i <= 5; i++) rows.push({ why: prose('Why?'), answer: null });
  return rows;
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
  alarm?: number;
  detected?: number;
  firstHuman?: number;
  mitigated?: number;
  resolved?: number;
}

/** When the impact started, as the verdict (else the metrics step) measured it; undefined when neither did. */
function impactStartOf(verdict: Verdict | null, steps: RcaStep[]): number | undefined {
  const metrics = steps.filter((s) => s.status === 'succeeded' && typeof s.output?.impactStartedAt === 'string').at(-1);
  return ms(verdict?.impactStartedAt) ?? ms(str(metrics?.output?.impactStartedAt));
}

function keyTimes({ incident, timeline, runs }: RcaInput, impactStarted: number | undefined): KeyTimes {
  const first = (pred: (e: TimelineEntry) => boolean) => ms(timeline.find(pred)?.at);
  const received = timeline.find((e) => e.type === 'alarm.received');
  const mutatingIds = new Set(runs.flatMap((r) => r.steps.filter(changedProduction).map((s) => s.id)));
  const fromRuns = runs
    .flatMap((r) => r.steps)
    .filter(changedProduction)
    .map((s) => ms(s.finishedAt))
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b)[0];
  const alarm = ms(str(received?.data.stateChangedAt)) ?? ms(incident.onsetAt);
  // The alarm fires after the impact began (its evaluation periods): measured from the alarm, time
  // to detect would read 0 s. A later "impact start" is a metric that moved after the alarm, not the start.
  const onset = impactStarted !== undefined && (alarm === undefined || impactStarted < alarm) ? impactStarted : alarm;
  return {
    onset,
    alarm,
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
  if (t.onset !== undefined && t.detected !== undefined) well.push(prose(`Responder opened the incident ${duration(t.detected - t.onset)} after the impact began${t.alarm !== undefined && t.alarm > t.onset ? ` (${duration(t.detected - t.alarm)} after the alarm fired)` : ''}.`));
  for (const s of mutating.filter((m) => m.status === 'succeeded')) {
    const after = s.finishedAt && t.onset !== undefined ? ` ${duration(Date.parse(s.finishedAt) - t.onset)} after onset` : '';
    well.push(prose({ code: s.id }, ` succeeded${after} (`, { text: approvalOf(s, input.timeline).text }, ').'));
  }
  // First: mitigations that were made and did not work (their goal was missed). The incident was not mitigated by them.
  for (const s of mutating.filter((m) => m.goal === 'missed')) {
    wrong.push(prose('Mitigation ', { code: s.id }, ' (', { text: s.action }, ') was made but missed its goal', ...(s.error ? [': ', { text: s.error }] : []), '. It did not mitigate the incident; people were called in.'));
  }
  for (const s of [...diagnostics, ...mutating]) {
    if (s.status === 'failed' && s.goal !== 'missed') wrong.push(prose({ code: s.id }, ' (', { text: s.action }, ') failed', ...(s.error ? [': ', { text: s.error }] : ['.'])));
    if (s.status === 'rejected') wrong.push(prose({ code: s.id }, ' was not run: ', { text: approvalOf(s, input.timeline).text }, '.'));
    if (s.status === 'timed_out') wrong.push(prose({ code: s.id }, ' timed out waiting for an approval.'));
    if (s.status === 'dry-run') wrong.push(prose({ code: s.id }, ' (', { text: s.action }, ') was a dry run: planned, never called; production was not changed.'));
  }
  for (const s of diagnostics.filter((x) => x.action === 'verify.recovery' && x.status === 'succeeded' && x.output?.recovered === false)) {
    // A recovery check that gave up before the alarms cleared: the mitigation took longer than the
    // runbook expected, or something else brought the service back.
    const checked = ms(s.finishedAt);
    const later = checked !== undefined && t.resolved !== undefined && t.resolved > checked ? `; the alarms went back to OK ${duration(t.resolved - checked)} later` : '';
    wrong.push(prose({ code: s.id }, ' found the service not recovered', checked !== undefined ? ` at ${stamp(checked)}` : '', ...(s.summary ? [' (', { text: s.summary }, ')'] : []), `${later}.`));
  }
  if (input.incident.status === 'open') wrong.push(prose(`The incident was still open when this draft was written (${stamp(input.now.getTime())}).`));
  const deploy = diagnostics.find((s) => s.output?.correlated === true);
  const rollback = mutating.find((s) => s.action === 'deploy.rollback' && s.status === 'succeeded');
  if (deploy && rollback) {
    const current = deploy.output?.current as { taskDefinition?: unknown; id?: unknown } | undefined;
    const ref = str(current?.taskDefinition) ?? str(current?.id) ?? 'the latest deployment';
    const minutes = typeof deploy.output?.minutesBeforeOnset === 'number' ? ` ${plural(deploy.output.minutesBeforeOnset, 'minute')} after` : ' after';
    const restored = rollback.finishedAt && t.onset !== undefined ? ` ${duration(Date.parse(rollback.finishedAt) - t.onset)} after onset` : '';
    cause.push(
      prose('Likely the deployment ', { code: ref }, `: the alarm began${minutes} it, and rolling back (`, { code: rollback.id }, `) succeeded${restored}. Confirm what in that change caused it.`),
    );
  }
  return [
    { title: 'What went well', prompt: 'What helped detect, understand or mitigate the incident?', items: well },
    { title: 'What went wrong', prompt: 'What slowed the response or made the impact worse?', items: wrong },
    { title: 'Where we got lucky', prompt: 'What limited the impact by chance rather than by design?', items: [] },
    { title: 'Root cause', prompt: 'Why did it happen? Keep asking why until the answer is something the team can change.', items: cause },
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
    case 'mitigation.goal_met':
      return `${cap(step)} met its goal${tail('summary')}`;
    case 'mitigation.goal_missed':
      return `${cap(step)} missed its goal: the mitigation did not work${tail('summary')}`;
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
      // With a reason: the world the plan was made on changed before the call (Replanner).
      if (s('reason')) return `Plan of ${step} stale${s('trigger') === 'alarm' ? ' (checked again on a new alarm)' : ' before the call'}: ${s('reason')}; ${d.replanned === false ? 'not planned again' : 'evidence gathered again and a new plan asked for'}`;
      return `Approval of ${step} refused: the plan changed since it was shown`;
    case 'plan.checked':
      return `Plan of ${step} checked${s('trigger') === 'alarm' ? ' on a new alarm' : ' before the call'}: ${s('checked') ?? 'still holds'}`;
    case 'step.rerun':
      return `${cap(step)} run again${tail('reason')}`;
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
    case 'postmortem.updated':
      return `Postmortem ${s('status') === 'review' ? 'in review' : (s('status') ?? 'draft')}${s('owner') ? `, owner ${s('owner')}` : ''}`;
    default:
      return e.type;
  }
}

function actor(e: TimelineEntry): string {
  if (e.type.startsWith('alarm.')) return 'alarm';
  const by = str(e.data.by);
  if (!by || by.toLowerCase() === 'responder') return 'Responder';
  return approverWords({ by, via: str(e.data.via), as: str(e.data.as) });
}

const CHANNEL_WORDS: Record<string, string> = { slack: 'in Slack', token: 'with a personal token', oidc: 'with an OIDC token' };

/** A person and how they decided: "alice (in Slack as U0ALICE01)", "bob (with a personal token)"; the person alone when nothing more was recorded. */
function approverWords(a: { by: string; via?: string; as?: string }): string {
  const how = [a.via ? (CHANNEL_WORDS[a.via] ?? `via ${a.via}`) : null, a.as && a.as !== a.by ? `as ${a.as}` : null].filter((w) => w !== null);
  return how.length > 0 ? `${a.by} (${how.join(' ')})` : a.by;
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
    const who = by && rejected ? approverWords({ by, via: str(rejected.data.via), as: str(rejected.data.as) }) : by;
    return { outcome: 'rejected', by: by ? [by] : [], reason: reason ?? null, text: `rejected by ${who ?? 'someone'}${reason ? `: ${reason}` : ''}` };
  }
  if (step.approval === 'timed_out') return { outcome: 'timed_out', by: [], reason: null, text: 'no decision before the timeout' };
  if (step.approval === 'policy') {
    const by = step.approvedBy ?? str(about('approval.granted')?.data.by) ?? 'policy';
    const policy = by.startsWith('policy') ? by : `policy:${by}`;
    return { outcome: 'policy', by: [policy], reason: null, text: `granted by ${policy}` };
  }
  const people = step.approvals?.map((a) => a.by) ?? [];
  const told = step.approvals?.map(approverWords) ?? [];
  if (step.approvedBy && !people.includes(step.approvedBy)) {
    people.push(step.approvedBy);
    told.push(step.approvedBy);
  }
  if (people.length) return { outcome: 'approved', by: people, reason: null, text: `approved by ${told.join(' and ')}` };
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
  // A list is told in the sentences ("readers: 1 item" told nothing).
  if (Array.isArray(value)) return undefined;
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

/** "1 minute", "3 minutes". */
export function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** The steps the verdict's evidence cites first (in its order), then failed ones, then the rest as they ran. */
function byRelevance<T extends { step: RcaStep }>(items: T[], verdict: Verdict | null): T[] {
  const cited = (verdict?.hypotheses.find((h) => h.cause === verdict.cause)?.evidence ?? []).map((e) => e.step);
  const rank = (s: RcaStep) => {
    const i = cited.indexOf(s.id);
    if (i >= 0) return i;
    return s.status === 'failed' ? cited.length : cited.length + 1;
  };
  return items.map((item, i) => ({ item, i })).sort((a, b) => rank(a.item.step) - rank(b.item.step) || a.i - b.i).map(({ item }) => item);
}

/** What a step found, in sentences: the verdict's evidence from it, its summary, then the lists of its output in words. */
function sentencesOf(step: RcaStep, verdict: Verdict | null): RcaProse[] {
  const out: RcaProse[] = [];
  const top = verdict?.hypotheses.find((h) => h.cause === verdict.cause);
  for (const e of top?.evidence.filter((x) => x.step === step.id) ?? []) out.push(prose('Evidence for the verdict: ', { text: e.text }, '.'));
  if (step.summary) out.push(prose({ text: step.summary }));
  const o = step.output ?? {};
  for (const m of arr(o.metrics)) {
    const label = str(m.label) ?? str(m.id) ?? 'a metric';
    const moved = str(m.startedMovingAt);
    const peak = num(m.peak);
    const baseline = num(m.baseline);
    if (!moved) continue;
    out.push(
      prose(
        { text: label },
        ` left its baseline${baseline !== undefined ? ` (${round(baseline)})` : ''} at ${stampOf(moved)}`,
        ...(peak !== undefined ? [`, peaking at ${round(peak)}${str(m.peakAt) ? ` at ${stampOf(str(m.peakAt)!)}` : ''}`] : []),
        '.',
      ),
    );
  }
  for (const s of arr(o.signatures).slice(0, 5)) {
    const text = str(s.signature) ?? str(s.text) ?? str(s.sample);
    if (!text) continue;
    const count = num(s.count);
    const seen = str(s.firstSeen) ? `, first seen ${stampOf(str(s.firstSeen)!)}${str(s.lastSeen) ? `, last seen ${stampOf(str(s.lastSeen)!)}` : ''}` : '';
    const severity = str(s.severity) ?? 'Error';
    // Signatures usually begin with their severity ("ERROR NullPointerException ..."): not twice.
    const lead = text.toUpperCase().startsWith(severity.toUpperCase()) ? [] : [`${severity} `];
    out.push(prose(...lead, { code: text }, `${count !== undefined ? ` ${plural(count, 'time')}` : ''}${seen}.`));
  }
  for (const c of arr(o.changes).slice(0, 5)) {
    const what = [str(c.eventName), str(c.resourceName)].filter(Boolean).join(' on ');
    if (!what) continue;
    out.push(prose({ text: what }, str(c.who) ? ' by ' : '', ...(str(c.who) ? [{ text: str(c.who)! }] : []), str(c.at) ? ` at ${stampOf(str(c.at)!)}` : '', '.'));
  }
  if (step.error) out.push(prose('It failed: ', { text: step.error }));
  else if (step.reason) out.push(prose(`It was ${step.status}: `, { text: step.reason }));
  return out;
}

/** The queries a reader re-runs, from the fields the actions really write. */
function rerunOf(output: Record<string, unknown> | undefined): Array<{ kind: RcaRerunKind; value: unknown }> {
  if (!output) return [];
  const out: Array<{ kind: RcaRerunKind; value: unknown }> = RERUN_KEYS.filter((k) => output[k] !== undefined).map((kind) => ({ kind, value: output[kind] }));
  for (const m of arr(output.metrics)) if (m.query !== undefined) out.push({ kind: 'metric', value: { label: m.label ?? m.id ?? null, ...(m.query as Record<string, unknown>) } });
  for (const g of arr(output.groups)) {
    if (str(g.logGroup) && typeof g.filterPattern === 'string') {
      out.push({ kind: 'logs', value: { logGroup: g.logGroup, filterPattern: g.filterPattern, startTime: g.startTime ?? output.from ?? null, endTime: output.to ?? null } });
    }
  }
  return out;
}

/** Every console link in an output, at any depth, once each. */
function linksIn(value: unknown, found = new Set<string>()): string[] {
  if (Array.isArray(value)) for (const v of value) linksIn(v, found);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'link' && typeof v === 'string' && /^https:\/\//.test(v)) found.add(v);
      else linksIn(v, found);
    }
  }
  return [...found];
}

function arr(v: unknown): Array<Record<string, unknown>> {
  return Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object') : [];
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) < 10 ? 2 : 1);
}

function stampOf(isoValue: string): string {
  const t = ms(isoValue);
  return t === undefined ? isoValue : stamp(t);
}
