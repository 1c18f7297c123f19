import type { Incident, TimelineEntry } from '@responder/domain';
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

const NONE = '—';
const HUMAN_RESPONSES = new Set(['approval.granted', 'approval.recorded', 'approval.rejected', 'note']);
const RERUN_KEYS = ['query', 'queries', 'filters'] as const;

/**
 * The RCA draft of an incident as GitHub-flavoured markdown (lint-clean with the repo's
 * .markdownlint-cli2.jsonc). Pure: the same input always renders the same document.
 */
export function renderRca(raw: RcaInput): string {
  const input = redactDeep(raw);
  const { incident, timeline, runs, now } = input;
  const steps = runs.flatMap((run) => run.steps.map((step) => ({ run, step })));
  const mutating = steps.filter(({ step }) => isMutating(step));
  const diagnostics = steps.filter(({ step }) => !isMutating(step));
  const t = keyTimes(input);
  const firstAlarm = timeline.find((e) => e.type === 'alarm.received');
  const alarmName = str(firstAlarm?.data.alarm) ?? incident.alarms[0]?.name ?? 'unknown alarm';
  const service = incident.service ?? 'unrouted';
  const out: string[] = [];
  const block = (...lines: string[]) => out.push(...lines, '');

  block(`# RCA: ${text(service)} — ${text(alarmName)} — ${t.onset ? day(t.onset) : day(Date.parse(incident.openedAt))}`);
  block(`> **Draft — check before publishing.** Written by Responder from incident ${code(incident.id)}'s timeline at ${stamp(now.getTime())}; every sentence below needs a human to confirm it.`);

  block('## Summary');
  const mitigations = mutating.filter(({ step }) => step.status === 'succeeded');
  const reason = str(firstAlarm?.data.reason) ?? incident.alarms[0]?.reason;
  block(
    `- **What happened**: ${incident.alarms.length > 1 ? `${incident.alarms.length} alarms` : `alarm ${text(alarmName)}`} went into ALARM for ${text(service)}${reason ? `: ${text(reason)}` : '.'}`,
    `- **Impact window**: ${t.onset ? stamp(t.onset) : NONE} to ${t.resolved ? `${stamp(t.resolved)} (${t.onset ? duration(t.resolved - t.onset) : NONE})` : `still open at ${stamp(now.getTime())}${t.onset ? ` (${duration(now.getTime() - t.onset)} so far)` : ''}`}`,
    `- **Status**: ${incident.status}`,
    `- **Severity**: ${NONE} (to be set by the responders)`,
    `- **Mitigation**: ${mitigations.length ? mitigations.map(({ step }) => `${text(step.plan ?? step.summary ?? step.action)} (${text(approver(step, timeline))})`).join('; ') : 'no mitigating action succeeded.'}`,
  );

  block('## Key times (UTC)');
  const since = (a?: number, b?: number) => (a !== undefined && b !== undefined ? duration(b - a) : NONE);
  block(
    '| Moment | Time (UTC) |',
    '| --- | --- |',
    `| Onset (alarm state change) | ${at(t.onset)} |`,
    `| Detected (incident opened) | ${at(t.detected)} |`,
    `| First human response | ${at(t.firstHuman)} |`,
    `| Mitigated (first mitigating action succeeded) | ${at(t.mitigated)} |`,
    `| Resolved (alarms back to OK) | ${at(t.resolved)} |`,
  );
  block(
    '| Duration | Value |',
    '| --- | --- |',
    `| Time to detect (onset → detected) | ${since(t.onset, t.detected)} |`,
    `| Time to acknowledge (detected → first human response) | ${since(t.detected, t.firstHuman)} |`,
    `| Time to mitigate (onset → mitigated) | ${since(t.onset, t.mitigated)} |`,
    `| Time to resolve (onset → resolved) | ${since(t.onset, t.resolved)} |`,
  );

  block('## Timeline');
  const base = t.onset ?? (timeline[0] ? Date.parse(timeline[0].at) : now.getTime());
  const rows = timeline.map((e) => {
    const ms = Date.parse(e.at);
    const when = day(ms) === day(base) ? clock(ms) : `${day(ms)} ${clock(ms)}`;
    return `| ${when} | ${elapsed(ms - base)} | ${cell(describe(e))} | ${cell(actor(e))} |`;
  });
  block('| Time (UTC) | Since onset | Event | Actor |', '| --- | --- | --- | --- |', ...(rows.length ? rows : [`| ${NONE} | ${NONE} | no timeline entries | ${NONE} |`]));

  block('## Findings');
  if (!diagnostics.length) block(`${NONE} No diagnostic ran.`);
  for (const { run, step } of diagnostics) {
    block(`### ${text(run.runbook)}: ${text(step.id)} (${text(step.action)})`);
    const bullets = [`- Status: ${text(step.status)}${step.error ? `: ${text(step.error)}` : step.reason ? `: ${text(step.reason)}` : ''}`];
    if (step.summary) bullets.push(`- ${text(step.summary)}`);
    for (const [key, value] of Object.entries(step.output ?? {})) {
      if ((RERUN_KEYS as readonly string[]).includes(key)) continue;
      const h = highlight(value);
      if (h !== undefined) bullets.push(`- ${text(key)}: ${h}`);
    }
    block(...bullets);
    const rerun = RERUN_KEYS.filter((k) => step.output?.[k] !== undefined);
    for (const key of rerun) {
      block(`To re-run (${key}):`);
      block(fence('json', JSON.stringify(step.output?.[key], null, 2)));
    }
  }

  block('## Actions taken');
  if (!mutating.length) block(`${NONE} No mitigating action was planned.`);
  for (const { run, step } of mutating) {
    block(`### ${text(run.runbook)}: ${text(step.id)} (${text(step.action)})`);
    const requestId = str(step.output?.requestId);
    block(
      `- Approval: ${text(approver(step, timeline))}`,
      `- Plan: ${step.plan ? text(step.plan) : NONE}`,
      `- Outcome: ${text(step.status)}${step.summary ? `: ${text(step.summary)}` : ''}${step.error ? `: ${text(step.error)}` : ''}${step.reason ? ` (${text(step.reason)})` : ''}`,
      `- Request id: ${requestId ? code(requestId) : NONE}`,
      `- Started: ${at(ms(step.startedAt))}; finished: ${at(ms(step.finishedAt))}`,
    );
    if (step.params && Object.keys(step.params).length) block('Parameters:');
    if (step.params && Object.keys(step.params).length) block(fence('json', JSON.stringify(step.params, null, 2)));
  }

  const { well, wrong, cause, followUps } = prefill(input, t, diagnostics.map((d) => d.step), mutating.map((m) => m.step));
  section(block, 'What went well', 'What helped detect, understand or mitigate the incident?', well);
  section(block, 'What went wrong', 'What slowed the response or made the impact worse?', wrong);
  section(block, 'Root cause', 'Why did it happen? Keep asking why until the answer is something the team can change.', cause);
  section(block, 'Follow-ups', 'Actions with an owner and a due date, each linked to a ticket.', followUps);

  while (out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
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
    .filter((s) => isMutating(s) && s.status === 'succeeded' && s.finishedAt)
    .map((s) => Date.parse(s.finishedAt!))
    .sort((a, b) => a - b)[0];
  return {
    onset: ms(str(received?.data.stateChangedAt)) ?? ms(incident.onsetAt),
    detected: first((e) => e.type === 'incident.opened') ?? ms(incident.openedAt),
    firstHuman: first((e) => HUMAN_RESPONSES.has(e.type) && isPerson(str(e.data.by))),
    mitigated: first((e) => e.type === 'step.succeeded' && mutatingIds.has(str(e.data.step) ?? '') && e.data.dryRun !== true) ?? fromRuns,
    resolved: first((e) => e.type === 'incident.resolved') ?? ms(incident.resolvedAt ?? undefined),
  };
}

function prefill(input: RcaInput, t: KeyTimes, diagnostics: RcaStep[], mutating: RcaStep[]) {
  const well: string[] = [];
  const wrong: string[] = [];
  const cause: string[] = [];
  const followUps: string[] = [];
  if (t.onset !== undefined && t.detected !== undefined) well.push(`Responder opened the incident ${duration(t.detected - t.onset)} after the alarm's onset.`);
  for (const s of mutating.filter((m) => m.status === 'succeeded')) {
    well.push(`${code(s.id)} succeeded${s.finishedAt && t.onset !== undefined ? ` ${duration(Date.parse(s.finishedAt) - t.onset)} after onset` : ''} (${text(approver(s, input.timeline))}).`);
  }
  for (const s of [...diagnostics, ...mutating]) {
    if (s.status === 'failed') wrong.push(`${code(s.id)} (${text(s.action)}) failed${s.error ? `: ${text(s.error)}` : '.'}`);
    if (s.status === 'rejected') wrong.push(`${code(s.id)} was not run: ${text(approver(s, input.timeline))}.`);
    if (s.status === 'timed_out') wrong.push(`${code(s.id)} timed out waiting for an approval.`);
  }
  if (input.incident.status === 'open') wrong.push(`The incident was still open when this draft was written (${stamp(input.now.getTime())}).`);
  const deploy = diagnostics.find((s) => s.output?.correlated === true);
  const rollback = mutating.find((s) => s.action === 'deploy.rollback' && s.status === 'succeeded');
  if (deploy && rollback) {
    const current = deploy.output?.current as { taskDefinition?: unknown; id?: unknown } | undefined;
    const ref = str(current?.taskDefinition) ?? str(current?.id) ?? 'the latest deployment';
    const minutes = typeof deploy.output?.minutesBeforeOnset === 'number' ? ` ${deploy.output.minutesBeforeOnset} minutes after` : ' after';
    const restored = rollback.finishedAt && t.onset !== undefined ? ` ${duration(Date.parse(rollback.finishedAt) - t.onset)} after onset` : '';
    cause.push(`Likely the deployment ${code(ref)}: the alarm began${minutes} it, and rolling back (${code(rollback.id)}) succeeded${restored}. Confirm what in that change caused it.`);
  }
  for (const s of [...diagnostics, ...mutating].filter((x) => x.status === 'failed')) followUps.push(`Find out why ${code(s.id)} failed and fix it or the runbook.`);
  return { well, wrong, cause, followUps };
}

function section(block: (...lines: string[]) => void, title: string, prompt: string, lines: string[]) {
  block(`## ${title}`);
  block(`> ${prompt}`);
  block(...(lines.length ? lines.map((l) => `- ${l}`) : [`- ${NONE}`]));
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

/** Who let a mutating step run (or stopped it), in words. */
function approver(step: RcaStep, timeline: TimelineEntry[]): string {
  const about = (type: string) => timeline.find((e) => e.type === type && str(e.data.step) === step.id);
  const rejected = about('approval.rejected');
  if (step.approval === 'rejected' || rejected) {
    const by = str(rejected?.data.by) ?? step.approvedBy ?? 'someone';
    const reason = str(rejected?.data.reason);
    return `rejected by ${by}${reason ? `: ${reason}` : ''}`;
  }
  if (step.approval === 'timed_out') return 'no decision before the timeout';
  if (step.approval === 'policy') {
    const by = step.approvedBy ?? str(about('approval.granted')?.data.by) ?? 'policy';
    return `granted by ${by.startsWith('policy') ? by : `policy:${by}`}`;
  }
  const people = step.approvals?.map((a) => a.by) ?? [];
  if (step.approvedBy && !people.includes(step.approvedBy)) people.push(step.approvedBy);
  if (people.length) return `approved by ${people.join(' and ')}`;
  const granted = str(about('approval.granted')?.data.by);
  if (granted) return `approved by ${granted}`;
  if (step.approval === 'pending') return 'awaiting approval';
  return 'no approval recorded';
}

function highlight(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value.length ? text(value.length > 200 ? `${value.slice(0, 200)}…` : value) : undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') {
    const scalars = Object.entries(value as Record<string, unknown>).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v));
    return scalars.length ? scalars.slice(0, 6).map(([k, v]) => `${text(k)} ${text(String(v as string | number | boolean))}`).join(', ') : undefined;
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length ? v : undefined;
}

function ms(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const n = Date.parse(iso);
  return Number.isNaN(n) ? undefined : n;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function day(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

function clock(t: number): string {
  return new Date(t).toISOString().slice(11, 19);
}

function stamp(t: number): string {
  return `${day(t)} ${clock(t)} UTC`;
}

function at(t: number | undefined): string {
  return t === undefined ? NONE : stamp(t);
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

function elapsed(msValue: number): string {
  return msValue < 0 ? duration(msValue) : `+${duration(msValue)}`;
}

const URL = /https?:\/\/[^\s<>|]+/g;

/** Inline markdown text: one line, markdown syntax escaped, bare URLs made autolinks (MD034). */
function text(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  let out = '';
  let last = 0;
  for (const m of flat.matchAll(URL)) {
    out += escape(flat.slice(last, m.index)) + `<${m[0]}>`;
    last = m.index + m[0].length;
  }
  return out + escape(flat.slice(last));
}

function escape(s: string): string {
  return s.replace(/[\\`*_[\]<>#|~]/g, (c) => `\\${c}`);
}

/** A table cell: text() already escapes `|`, so a cell never splits. */
function cell(s: string): string {
  return text(s) || NONE;
}

function code(s: string): string {
  const flat = s.replace(/\s+/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((r) => r.length));
  const ticks = '`'.repeat(longest + 1);
  return flat.includes('`') ? `${ticks} ${flat} ${ticks}` : `${ticks}${flat}${ticks}`;
}

function fence(lang: string, body: string): string {
  const longest = Math.max(2, ...(body.match(/`{3,}/g) ?? []).map((r) => r.length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${body}\n${f}`;
}

