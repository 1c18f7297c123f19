import { createHash } from 'node:crypto';
import { type CatalogService, type Incident, type IncidentAlarm, globToRegExp, isTruthy } from '@responder/domain';
import type { Runbook, RunbookStep } from './runbook';

/**
 * Pure planning helpers the engine calls: which runbooks an incident starts, which steps are
 * ready, what a step's parameters are and their hash (what an approval approves).
 */

/**
 * A step's status in a run. Terminal: succeeded; failed, rejected (approval refused) and
 * timed_out (approval or run past its timeout), which all count as failures; skipped; cancelled
 * (the run was aborted before it started); dry-run (a mutating step in dry-run mode: planned and
 * reported, never called: nothing changed).
 */
export type StepStatus = 'pending' | 'queued' | 'awaiting_approval' | 'running' | 'succeeded' | 'dry-run' | 'failed' | 'rejected' | 'timed_out' | 'skipped' | 'cancelled';

const FAILURES: ReadonlySet<string> = new Set(['failed', 'rejected', 'timed_out']);
const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'dry-run', 'failed', 'rejected', 'timed_out', 'skipped', 'cancelled']);

export function isTerminal(status: StepStatus | undefined): boolean {
  return status !== undefined && TERMINAL.has(status);
}

export function isFailure(status: StepStatus | undefined): boolean {
  return status !== undefined && FAILURES.has(status);
}

export type StepStatuses = Readonly<Record<string, StepStatus | undefined>>;

// ---------------------------------------------------------------------------------------------
// Triggers

/**
 * Whether an incident starts a runbook automatically. `services` globs match the catalog service
 * name (an unrouted incident, service null, matches only when `services` is left out); `alarms`
 * globs match any of the incident's alarm names; both given = both must match. A manual-only
 * runbook never matches.
 */
export function triggerMatches(runbook: Runbook, incident: { service: string | null; alarmNames: readonly string[] }): boolean {
  const { services, alarms, manualOnly } = runbook.triggers;
  if (manualOnly) return false;
  if (services !== null) {
    const service = incident.service;
    if (service === null || !services.some((g) => globToRegExp(g).test(service))) return false;
  }
  if (alarms !== null && !incident.alarmNames.some((name) => alarms.some((g) => globToRegExp(g).test(name)))) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Step graph

/** The steps that name `stepId` in their `needs`, in file order. */
export function dependents(runbook: Runbook, stepId: string): RunbookStep[] {
  return runbook.steps.filter((s) => s.needs.includes(stepId));
}

/** Every step after all the steps it needs, ties in file order (the runbook has no cycle: it was validated). */
export function topologicalOrder(runbook: Runbook): RunbookStep[] {
  const remaining = new Map(runbook.steps.map((s) => [s.id, new Set(s.needs)]));
  const order: RunbookStep[] = [];
  while (order.length < runbook.steps.length) {
    const next = runbook.steps.find((s) => remaining.get(s.id)?.size === 0);
    if (!next) throw new Error(`runbook "${runbook.name}" has a cycle in needs`);
    order.push(next);
    remaining.delete(next.id);
    for (const waiting of remaining.values()) waiting.delete(next.id);
  }
  return order;
}

export type RunState =
  /** A step failed with on_failure: abort: start nothing more (cancel what has not started). */
  | { state: 'aborted'; abortedBy: string; settled: boolean }
  | { state: 'running' }
  /** Every step is terminal; `failed` lists the failures that were continued past. */
  | { state: 'succeeded' }
  | { state: 'completed_with_failures'; failed: string[] };

/** Where a run stands. `settled` on an aborted run: no step is still queued, waiting or running. */
export function runState(runbook: Runbook, statuses: StepStatuses): RunState {
  const abortedBy = runbook.steps.find((s) => s.onFailure === 'abort' && isFailure(statuses[s.id]));
  if (abortedBy) {
    const inFlight = runbook.steps.some((s) => {
      const st = statuses[s.id];
      return st !== undefined && st !== 'pending' && !isTerminal(st);
    });
    return { state: 'aborted', abortedBy: abortedBy.id, settled: !inFlight };
  }
  if (!runbook.steps.every((s) => isTerminal(statuses[s.id]))) return { state: 'running' };
  const failed = runbook.steps.filter((s) => isFailure(statuses[s.id])).map((s) => s.id);
  return failed.length > 0 ? { state: 'completed_with_failures', failed } : { state: 'succeeded' };
}

export type StepDecision = { step: RunbookStep; decision: 'run' } | { step: RunbookStep; decision: 'skip'; reason: string };

/** Whether a step's `when` reads `steps.<needId>.status`: then it decides what a skipped need means. */
function whenReadsStatusOf(step: RunbookStep, needId: string): boolean {
  return step.when?.references().some((p) => p[0] === 'steps' && p[1] === needId && p[2] === 'status') ?? false;
}

/**
 * The pending steps whose needs are all settled, and what to do with each:
 * - a need that succeeded, or failed (or was rejected or timed out) with on_failure: continue,
 *   counts as done;
 * - a need that was skipped, or dry-run (nothing changed: what follows a real change has nothing
 *   to follow), skips this step too ("needs X which was skipped"), unless the step's
 *   `when` reads `steps.X.status`: then the step handles that case itself (a join after two
 *   alternative branches: `when: steps.rollback.status == 'succeeded' || steps.scale-up.status == 'succeeded'`);
 * - a need that failed with on_failure: abort aborts the run: nothing is ready (see runState).
 * `run` still has to pass the step's `when` (checkWhen), with the run's context.
 */
export function readySteps(runbook: Runbook, statuses: StepStatuses): StepDecision[] {
  if (runState(runbook, statuses).state === 'aborted') return [];
  const byId = stepsById(runbook);
  const out: StepDecision[] = [];
  for (const step of runbook.steps) {
    const own = statuses[step.id];
    if (own !== undefined && own !== 'pending') continue;
    if (!step.needs.every((n) => isTerminal(statuses[n]))) continue;
    const blocked = step.needs.find((n) => {
      const st = statuses[n];
      if (st === 'skipped' || st === 'dry-run') return !whenReadsStatusOf(step, n);
      return st === 'cancelled' || (isFailure(st) && byId.get(n)?.onFailure !== 'continue');
    });
    if (blocked !== undefined) {
      const st = statuses[blocked];
      const was = st === 'skipped' ? 'skipped' : st === 'dry-run' ? 'a dry run (nothing changed)' : st === 'cancelled' ? 'cancelled' : 'not successful';
      out.push({ step, decision: 'skip', reason: `needs ${blocked} which was ${was}` });
    } else {
      out.push({ step, decision: 'run' });
    }
  }
  return out;
}

const byIdOf = new WeakMap<Runbook, ReadonlyMap<string, RunbookStep>>();

/** A loaded runbook's steps by id, built once (the engine asks at every step). */
function stepsById(runbook: Runbook): ReadonlyMap<string, RunbookStep> {
  let byId = byIdOf.get(runbook);
  if (!byId) byIdOf.set(runbook, (byId = new Map(runbook.steps.map((s) => [s.id, s]))));
  return byId;
}

/** What a step's `when`, `with` and approval policy read of the run: the engine loads only that. */
export interface StepReads {
  /** Steps whose output is read; 'all' when an expression reads `steps` whole or by a computed id. */
  outputs: ReadonlySet<string> | 'all';
  /** Steps whose status is read (a step whose output is read is in here too). */
  statuses: ReadonlySet<string> | 'all';
  /** Whether the incident or its alarms are read (they change as alarms attach: read from the store). */
  incident: boolean;
}

const stepReadsCache = new WeakMap<RunbookStep, StepReads>();

/** What a step reads, from its expressions' references (computed once per loaded step). */
export function stepReads(step: RunbookStep): StepReads {
  const cached = stepReadsCache.get(step);
  if (cached) return cached;
  const paths = [...(step.when?.references() ?? []), ...step.with.references(), ...(step.approval.kind === 'policy' ? step.approval.when.references() : [])];
  let outputs: Set<string> | 'all' = new Set();
  let statuses: Set<string> | 'all' = new Set();
  let incident = false;
  for (const [root, id, field] of paths) {
    if (root === 'incident' || root === 'alarm' || root === 'alarms') incident = true;
    if (root !== 'steps') continue;
    // `steps`, `len(steps)`, `steps[x]`: any step may be read.
    if (id === undefined) {
      outputs = 'all';
      statuses = 'all';
      continue;
    }
    if (statuses !== 'all') statuses.add(id);
    // `steps.x`, `steps.x[k]` and `steps.x.output…` can reach the output; `steps.x.status` cannot.
    if (field !== 'status' && outputs !== 'all') outputs.add(id);
  }
  const reads: StepReads = { outputs, statuses, incident };
  stepReadsCache.set(step, reads);
  return reads;
}

// ---------------------------------------------------------------------------------------------
// Context, conditions, parameters

export interface StepContext {
  status: StepStatus;
  output?: Record<string, unknown>;
  /** Why it failed (failed, timed_out), e.g. an access denied naming the IAM action. */
  error?: string;
  /** Why it was skipped, rejected or cancelled. */
  reason?: string;
}

export interface ContextInput {
  incident: Incident;
  /** The catalog entry, or null for an unrouted incident. */
  service: CatalogService | null;
  /** Resolved inputs (resolveInputs). */
  inputs: Record<string, unknown>;
  steps: Record<string, StepContext>;
  mode: 'live' | 'dry-run';
  now: Date | string;
  /** The alarm that opened the incident; default: the incident's alarm with the earliest state change. */
  alarm?: IncidentAlarm;
}

function alarmContext(a: IncidentAlarm): Record<string, unknown> {
  return { name: a.name, arn: a.arn, kind: a.kind, state: a.state, reason: a.reason, stateChangedAt: a.stateChangedAt };
}

/** The context expressions and templates see (documented in runbooks/README.md). */
export function buildContext(input: ContextInput): Record<string, unknown> {
  const i = input.incident;
  const first = input.alarm ?? [...i.alarms].sort((a, b) => a.stateChangedAt.localeCompare(b.stateChangedAt))[0];
  return {
    incident: { id: i.id, service: i.service, title: i.title, status: i.status, routed: i.routed, openedAt: i.openedAt, onsetAt: i.onsetAt },
    alarm: first ? alarmContext(first) : null,
    alarms: i.alarms.map(alarmContext),
    service: input.service,
    inputs: input.inputs,
    steps: input.steps,
    mode: input.mode,
    now: typeof input.now === 'string' ? input.now : input.now.toISOString(),
  };
}

/** The runbook's input defaults with a manual run's overrides; an unknown name is an error. */
export function resolveInputs(runbook: Runbook, overrides: Readonly<Record<string, unknown>> = {}): { ok: true; inputs: Record<string, unknown> } | { ok: false; error: string } {
  const unknown = Object.keys(overrides).filter((k) => !Object.hasOwn(runbook.inputs, k));
  if (unknown.length > 0) {
    const declared = Object.keys(runbook.inputs);
    return { ok: false, error: `unknown input ${unknown.map((k) => `"${k}"`).join(', ')} for runbook "${runbook.name}" (inputs: ${declared.length > 0 ? declared.join(', ') : 'none'})` };
  }
  const inputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(runbook.inputs)) inputs[k] = Object.hasOwn(overrides, k) ? overrides[k] : v.default;
  return { ok: true, inputs };
}

/**
 * Whether a ready step runs: its `when` (if any) against the context. Throws the ExpressionError
 * of an expression that fails at run time (a type error): the engine fails the step with it.
 */
export function checkWhen(step: RunbookStep, context: Readonly<Record<string, unknown>>): { run: true } | { run: false; reason: string } {
  if (!step.when || isTruthy(step.when.evaluate(context))) return { run: true };
  return { run: false, reason: `when was false: ${step.when.source}` };
}

/** Whether a step's approval policy grants it now (false for steps without a policy). */
export function policyGrants(step: RunbookStep, context: Readonly<Record<string, unknown>>): boolean {
  return step.approval.kind === 'policy' && isTruthy(step.approval.when.evaluate(context));
}

/** The step's parameters: its `with`, rendered against the context. */
export function renderParams(step: RunbookStep, context: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return step.with.render(context) as Record<string, unknown>;
}

/** JSON with object keys sorted at every level; undefined object values are left out (as JSON does). */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/** What an approval names: sha256 of the canonical JSON of the parameters, first 16 hex digits. */
export function paramsHash(params: unknown): string {
  return createHash('sha256').update(canonicalJson(params)).digest('hex').slice(0, 16);
}
