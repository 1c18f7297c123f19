import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  ACQUIRE_LOCK_LUA,
  ADD_APPROVAL_LUA,
  CREATE_RUN_LUA,
  EXTEND_LOCK_LUA,
  FINISH_RUN_LUA,
  LEDGER_BEGIN_LUA,
  RELEASE_LOCK_LUA,
  TRANSITION_STEP_LUA,
} from './run-scripts';

export type StepStatus =
  | 'pending'
  | 'awaiting_approval'
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'rejected'
  | 'timed_out'
  | 'cancelled';

export const TERMINAL_STEP_STATUSES: ReadonlySet<StepStatus> = new Set(['succeeded', 'failed', 'skipped', 'rejected', 'timed_out', 'cancelled']);

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'aborted';

export interface Approval {
  by: string;
  at: string;
  paramsHash: string;
}

/**
 * A step's state as stored. Params and output are JSON strings so that Redis' Lua (whose cjson
 * turns an empty array into an empty object) never rewrites them.
 */
export interface StepState {
  status: StepStatus;
  action: string;
  mutating: boolean;
  attempts?: number;
  paramsJson?: string;
  paramsHash?: string;
  /** What a mutating step will do, for approvers ("UpdateService prod/checkout desiredCount 4 → 8"). */
  plan?: string;
  resource?: string;
  approval?: 'pending' | 'granted' | 'rejected' | 'timed_out' | 'policy' | 'not_required';
  approvedBy?: string;
  approvals?: Approval[];
  approversNeeded?: number;
  requestedAt?: string;
  queuedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  outputJson?: string;
  summary?: string;
  error?: string;
  reason?: string;
  dryRun?: boolean;
}

export interface RunRecord {
  id: string;
  incidentId: string;
  runbook: string;
  /** The incident's service when the run was planned ('' for an unrouted incident). */
  service?: string;
  status: RunStatus;
  trigger: string;
  createdAt: string;
  finishedAt?: string;
  inputsJson: string;
  steps: Record<string, StepState>;
}

type Cmd = (...args: (string | number)[]) => Promise<unknown>;
interface RunCommands {
  responderCreateRun: Cmd;
  responderTransitionStep: Cmd;
  responderAddApproval: Cmd;
  responderFinishRun: Cmd;
  responderLedgerBegin: Cmd;
  responderReleaseLock: Cmd;
  responderExtendLock: Cmd;
  responderAcquireLock: Cmd;
}

const SCRIPTS: Record<keyof RunCommands, string> = {
  responderCreateRun: CREATE_RUN_LUA,
  responderTransitionStep: TRANSITION_STEP_LUA,
  responderAddApproval: ADD_APPROVAL_LUA,
  responderFinishRun: FINISH_RUN_LUA,
  responderLedgerBegin: LEDGER_BEGIN_LUA,
  responderReleaseLock: RELEASE_LOCK_LUA,
  responderExtendLock: EXTEND_LOCK_LUA,
  responderAcquireLock: ACQUIRE_LOCK_LUA,
};

export type ApprovalOutcome = 'granted' | 'recorded' | 'duplicate' | 'stale' | 'not_pending';
export type LedgerBegin = { kind: 'call'; attempt: number } | { kind: 'reconcile'; attempt: number } | { kind: 'done'; resultJson: string };

/** Runs, steps, approvals, the idempotency ledger, locks, cooldowns and the kill switch, in Redis. */
export class RunStore {
  private readonly cmd: RunCommands;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    }
    this.cmd = redis as unknown as RunCommands;
  }

  private now(): string {
    return new Date().toISOString();
  }

  static newRunId(): string {
    return `run_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  }

  /** Creates the run unless this incident already has one of this runbook. */
  async createRun(input: {
    incidentId: string;
    runbook: string;
    service?: string | null;
    trigger: string;
    inputs: Record<string, unknown>;
    steps: Record<string, StepState>;
  }): Promise<{ runId: string; created: boolean }> {
    const runId = RunStore.newRunId();
    const now = this.now();
    const run = { id: runId, incidentId: input.incidentId, runbook: input.runbook, service: input.service ?? '', status: 'running', trigger: input.trigger, createdAt: now, inputsJson: JSON.stringify(input.inputs) };
    const [id, created] = (await this.cmd.responderCreateRun(
      this.prefix,
      input.incidentId,
      input.runbook,
      runId,
      now,
      JSON.stringify(run),
      JSON.stringify(input.steps),
      JSON.stringify({ runId, runbook: input.runbook, trigger: input.trigger, steps: Object.keys(input.steps) }),
    )) as [string, number];
    return { runId: id, created: created === 1 };
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const [[, run], [, steps]] = (await this.redis.multi().hgetall(this.key('run', runId)).hgetall(`${this.key('run', runId)}:steps`).exec()) as [
      [null, Record<string, string>],
      [null, Record<string, string>],
    ];
    if (!run.id) return null;
    return {
      id: run.id,
      incidentId: run.incidentId,
      runbook: run.runbook,
      service: run.service,
      status: run.status as RunStatus,
      trigger: run.trigger,
      createdAt: run.createdAt,
      finishedAt: run.finishedAt,
      inputsJson: run.inputsJson ?? '{}',
      steps: Object.fromEntries(Object.entries(steps).map(([id, raw]) => [id, normalise(JSON.parse(raw) as StepState)])),
    };
  }

  /** The run with only one of its steps: what a step job needs. */
  async getRunStep(runId: string, stepId: string): Promise<RunRecord | null> {
    const [[, meta], [, raw]] = (await this.redis
      .multi()
      .hmget(this.key('run', runId), 'id', 'incidentId', 'runbook', 'status', 'trigger', 'createdAt', 'finishedAt', 'inputsJson')
      .hget(`${this.key('run', runId)}:steps`, stepId)
      .exec()) as [[null, (string | null)[]], [null, string | null]];
    const [id, incidentId, runbook, status, trigger, createdAt, finishedAt, inputsJson] = meta;
    if (!id || !incidentId || !runbook) return null;
    return {
      id,
      incidentId,
      runbook,
      status: status as RunStatus,
      trigger: trigger ?? '',
      createdAt: createdAt ?? '',
      finishedAt: finishedAt ?? undefined,
      inputsJson: inputsJson ?? '{}',
      steps: raw ? { [stepId]: normalise(JSON.parse(raw) as StepState) } : {},
    };
  }

  /** runbook name → run id, for an incident. */
  async runsOf(incidentId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(`${this.prefix}:incident:${incidentId}:runs`);
  }

  async activeRuns(): Promise<string[]> {
    return this.redis.smembers(`${this.prefix}:runs:active`);
  }

  /**
   * Moves a step from one of `from` to the patched state, recording `event` on the incident's
   * timeline in the same atomic step. Returns the new state, or null when the step was not in
   * `from` (someone else moved it first).
   */
  async transition(
    runId: string,
    stepId: string,
    from: StepStatus[] | '*',
    patch: Partial<Record<keyof StepState, unknown>>,
    event?: { type: string; data: Record<string, unknown> },
  ): Promise<StepState | null> {
    const [ok, value] = (await this.cmd.responderTransitionStep(
      this.prefix,
      runId,
      stepId,
      from === '*' ? '*' : from.join(','),
      JSON.stringify(patch, (_k, v: unknown) => (v === undefined ? null : v)),
      event?.type ?? '',
      JSON.stringify({ runId, step: stepId, ...(event?.data ?? {}) }),
      this.now(),
    )) as [number, string];
    return ok === 1 ? normalise(JSON.parse(value) as StepState) : null;
  }

  async addApproval(runId: string, stepId: string, approver: string, paramsHash: string, needed: number): Promise<{ outcome: ApprovalOutcome; state?: StepState; status?: string }> {
    const now = this.now();
    const [outcome, value] = (await this.cmd.responderAddApproval(
      this.prefix,
      runId,
      stepId,
      approver,
      paramsHash,
      needed,
      now,
      JSON.stringify({ status: 'queued', queuedAt: now }),
    )) as [ApprovalOutcome, string];
    if (outcome === 'not_pending') return { outcome, status: value };
    return { outcome, state: normalise(JSON.parse(value) as StepState) };
  }

  async finishRun(runId: string, status: Exclude<RunStatus, 'running'>, data: Record<string, unknown>): Promise<boolean> {
    return (await this.cmd.responderFinishRun(this.prefix, runId, status, this.now(), JSON.stringify({ runId, status, ...data }))) === 1;
  }

  async appendTimeline(incidentId: string, type: string, data: Record<string, unknown>): Promise<void> {
    await this.redis
      .multi()
      .xadd(`${this.prefix}:incident:${incidentId}:timeline`, '*', 'type', type, 'at', this.now(), 'data', JSON.stringify(data))
      .xadd(`${this.prefix}:changes`, 'MAXLEN', '~', 100_000, '*', 'incident', incidentId, 'type', type)
      .exec();
  }

  // --- idempotency ledger -------------------------------------------------------------------

  async ledgerBegin(key: string): Promise<LedgerBegin> {
    const [kind, value] = (await this.cmd.responderLedgerBegin(this.prefix, key, this.now())) as [string, string];
    if (kind === 'done') return { kind, resultJson: value };
    return { kind: kind as 'call' | 'reconcile', attempt: Number(value) };
  }

  async ledgerFinish(key: string, outcome: { state: 'done'; resultJson: string } | { state: 'failed'; error: string }): Promise<void> {
    const fields = outcome.state === 'done' ? ['result', outcome.resultJson] : ['error', outcome.error];
    await this.redis.hset(this.key('ledger', key), 'state', outcome.state, 'finishedAt', this.now(), ...fields);
  }

  async ledger(key: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.key('ledger', key));
  }

  // --- locks, cooldowns, kill switch --------------------------------------------------------

  /**
   * One mutating action per resource at a time, across incidents and replicas. `holder` names the
   * step (`runId/stepId`): the same step resumed after a crash takes its own lock back.
   */
  async acquireLock(resource: string, holder: string, ttlMs: number): Promise<string | null> {
    const token = `${holder}|${randomBytes(6).toString('hex')}`;
    const ok = await this.cmd.responderAcquireLock(this.prefix, resource, holder, token, ttlMs);
    return ok === 1 ? token : null;
  }

  async lockHolder(resource: string): Promise<string | null> {
    return this.redis.get(this.key('lock', resource));
  }

  async extendLock(resource: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.cmd.responderExtendLock(this.prefix, resource, token, ttlMs)) === 1;
  }

  async releaseLock(resource: string, token: string): Promise<void> {
    await this.cmd.responderReleaseLock(this.prefix, resource, token);
  }

  async startCooldown(action: string, resource: string, seconds: number, data: Record<string, unknown>): Promise<void> {
    if (seconds <= 0) return;
    await this.redis.set(this.key('cooldown', `${action}:${resource}`), JSON.stringify({ ...data, at: this.now() }), 'EX', Math.ceil(seconds));
  }

  /** The running cooldown, with the seconds left, or null. */
  async cooldown(action: string, resource: string): Promise<{ secondsLeft: number; data: Record<string, unknown> } | null> {
    const key = this.key('cooldown', `${action}:${resource}`);
    const [[, raw], [, ttl]] = (await this.redis.multi().get(key).ttl(key).exec()) as [[null, string | null], [null, number]];
    return raw ? { secondsLeft: ttl, data: JSON.parse(raw) as Record<string, unknown> } : null;
  }

  async setPaused(paused: boolean, by: string, reason?: string): Promise<boolean> {
    const key = this.key('automation', 'paused');
    if (paused) return (await this.redis.set(key, JSON.stringify({ by, reason, at: this.now() }), 'NX')) === 'OK';
    return (await this.redis.del(key)) === 1;
  }

  async paused(): Promise<{ by: string; reason?: string; at: string } | null> {
    const raw = await this.redis.get(this.key('automation', 'paused'));
    return raw ? (JSON.parse(raw) as { by: string; reason?: string; at: string }) : null;
  }

  private key(kind: string, id: string): string {
    return `${this.prefix}:${kind}:${id}`;
  }
}

/** Redis' cjson writes an empty array as {}: give arrays back their shape. */
function normalise(state: StepState): StepState {
  if (state.approvals && !Array.isArray(state.approvals)) state.approvals = Object.values(state.approvals);
  return state;
}
