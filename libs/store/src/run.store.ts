import { randomBytes } from 'node:crypto';
import type { ApprovalDetail, Pause, RunHead, RunRecord, RunStatus, StepResultText, StepState, StepStatus, StepStatusMap } from '@responder/domain';
import { StoreKeys } from './keys';
import type { RedisClient } from './redis-client';
import { CHANGES_MAXLEN, isAlarmChange } from './timeline-lua';
import {
  ACQUIRE_LOCK_LUA,
  ADD_APPROVAL_LUA,
  CLAIM_COOLDOWN_LUA,
  CREATE_RUN_LUA,
  EXTEND_LOCK_LUA,
  FINISH_RUN_LUA,
  LEDGER_BEGIN_LUA,
  LEDGER_CALLING_LUA,
  MOVE_STEPS_LUA,
  RELEASE_COOLDOWN_LUA,
  RELEASE_LOCK_LUA,
  RUN_KEYS,
  RUN_STATUSES_LUA,
  SETTLE_STEP_LUA,
  START_STEP_LUA,
  TRANSITION_STEP_LUA,
} from './run-scripts';

/** A running cooldown: who holds it (`runId/stepId`), what ran, when, and the seconds left. */
export interface Cooldown {
  secondsLeft: number;
  data: { holder: string; at: string; action?: string; resource?: string; runId?: string; step?: string; incidentId?: string } & Record<string, unknown>;
}

/**
 * One compare-and-set move of a step (see `moveSteps`): from one of `from` to the patched state,
 * with its timeline entry.
 */
export interface StepMove {
  stepId: string;
  from: StepStatus[] | '*';
  patch: Partial<Record<keyof StepState, unknown>>;
  event?: { type: string; data: Record<string, unknown> };
  /** Applies only if the move at this index, in the same call, applied. */
  after?: number;
}

export interface MovesResult {
  /** Per move, whether it applied. */
  applied: boolean[];
  /** Every step's status after the moves. */
  statuses: StepStatusMap;
  runStatus: RunStatus | null;
}

/** `settleStep`'s answer: the statuses are left out (null) when every move applied (as decided). */
export type FinishResult = Omit<MovesResult, 'statuses'> & { statuses: StepStatusMap | null };

export type StepStart =
  | { kind: 'missing' }
  /** Neither queued nor running: decided already, or not yet approved. */
  | { kind: 'settled'; status: StepStatus }
  /** A mutating step, read (not started): its gates come first. */
  | { kind: 'gated'; run: RunHead; state: StepState; paused: Pause | null; statuses: StepStatusMap }
  /** A read-only step, now running. */
  | { kind: 'started'; run: RunHead; state: StepState; statuses: StepStatusMap };

type Cmd = (...args: (string | number)[]) => Promise<unknown>;
interface RunCommands {
  responderCreateRun: Cmd;
  responderTransitionStep: Cmd;
  responderAddApproval: Cmd;
  responderFinishRun: Cmd;
  responderLedgerBegin: Cmd;
  responderLedgerCalling: Cmd;
  responderReleaseLock: Cmd;
  responderExtendLock: Cmd;
  responderAcquireLock: Cmd;
  responderMoveSteps: Cmd;
  responderRunStatuses: Cmd;
  responderStartStep: Cmd;
  responderSettleStep: Cmd;
  responderClaimCooldown: Cmd;
  responderReleaseCooldown: Cmd;
}

const SCRIPTS: Record<keyof RunCommands, string> = {
  responderCreateRun: CREATE_RUN_LUA,
  responderTransitionStep: TRANSITION_STEP_LUA,
  responderAddApproval: ADD_APPROVAL_LUA,
  responderFinishRun: FINISH_RUN_LUA,
  responderLedgerBegin: LEDGER_BEGIN_LUA,
  responderLedgerCalling: LEDGER_CALLING_LUA,
  responderReleaseLock: RELEASE_LOCK_LUA,
  responderExtendLock: EXTEND_LOCK_LUA,
  responderAcquireLock: ACQUIRE_LOCK_LUA,
  responderMoveSteps: MOVE_STEPS_LUA,
  responderRunStatuses: RUN_STATUSES_LUA,
  responderStartStep: START_STEP_LUA,
  responderSettleStep: SETTLE_STEP_LUA,
  responderClaimCooldown: CLAIM_COOLDOWN_LUA,
  responderReleaseCooldown: RELEASE_COOLDOWN_LUA,
};

export type ApprovalOutcome = 'granted' | 'recorded' | 'duplicate' | 'stale' | 'not_pending';
export type LedgerBegin = { kind: 'call'; attempt: number } | { kind: 'uncalled'; attempt: number } | { kind: 'reconcile'; attempt: number } | { kind: 'done'; resultJson: string };

/** How many runs' incident ids a RunStore keeps (a run's incident never changes). */
const INCIDENT_OF_MAX = 10_000;

/** Runs, steps, approvals, the idempotency ledger, locks, cooldowns and the kill switch, in Redis. */
export class RunStore {
  private readonly cmd: RunCommands;
  private readonly keys: StoreKeys;
  private readonly incidentOfRun = new Map<string, string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {
    // Every script takes its number of keys first (`numkeys`): see runScript and keyScript.
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, { lua });
    }
    this.cmd = redis as unknown as RunCommands;
    this.keys = new StoreKeys(prefix);
  }

  /** The keys of a run script (RUN_KEYS' order). */
  private runKeys(runId: string, incidentId: string): string[] {
    const k = this.keys;
    const byName: Record<(typeof RUN_KEYS)[number], string> = {
      run: k.run(runId),
      steps: k.runSteps(runId),
      status: k.runStatus(runId),
      active: k.activeRuns(),
      paused: k.paused(),
      timeline: k.timeline(incidentId),
      changes: k.changes(),
      alarmChanges: k.alarmChanges(),
      incidentRuns: k.runs(incidentId),
    };
    return RUN_KEYS.map((name) => byName[name]);
  }

  /** The incident a run belongs to (its timeline is a key of every run script); '' for no such run. */
  private async incidentOf(runId: string): Promise<string> {
    const known = this.incidentOfRun.get(runId);
    if (known !== undefined) return known;
    const incidentId = await this.redis.hget(this.keys.run(runId), 'incidentId');
    if (incidentId) this.learn(runId, incidentId);
    return incidentId ?? '';
  }

  private learn(runId: string, incidentId: string): void {
    if (this.incidentOfRun.size >= INCIDENT_OF_MAX) this.incidentOfRun.clear();
    this.incidentOfRun.set(runId, incidentId);
  }

  /** Calls a run script: its keys, then the incident id, then `args`. */
  private async runScript(name: keyof RunCommands, runId: string, ...args: (string | number)[]): Promise<unknown> {
    const incidentId = await this.incidentOf(runId);
    const keys = this.runKeys(runId, incidentId);
    return this.cmd[name](keys.length, ...keys, incidentId, ...args);
  }

  private now(): string {
    return new Date().toISOString();
  }

  static newRunId(): string {
    return `run_${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  }

  /**
   * Creates the run unless this incident already has one of this runbook. `firstMoves` (moves of
   * its first steps, decided with every step pending) are applied in the same call, after
   * run.planned, only when this call created the run; `moves` then says how they went.
   */
  async createRun(
    input: {
      /** The new run's id (RunStore.newRunId()), when the caller needs it before the answer. */
      runId?: string;
      incidentId: string;
      runbook: string;
      service?: string | null;
      trigger: string;
      inputs: Record<string, unknown>;
      steps: Record<string, StepState>;
    },
    firstMoves: StepMove[] = [],
  ): Promise<{ runId: string; created: boolean; moves?: MovesResult }> {
    const runId = input.runId ?? RunStore.newRunId();
    const now = this.now();
    const run = { id: runId, incidentId: input.incidentId, runbook: input.runbook, service: input.service ?? '', status: 'running', trigger: input.trigger, createdAt: now, inputsJson: JSON.stringify(input.inputs) };
    const keys = this.runKeys(runId, input.incidentId);
    const [id, created, applied, statuses] = (await this.cmd.responderCreateRun(
      keys.length,
      ...keys,
      input.incidentId,
      input.incidentId,
      input.runbook,
      runId,
      now,
      JSON.stringify(run),
      JSON.stringify(input.steps),
      JSON.stringify({ runId, runbook: input.runbook, trigger: input.trigger, steps: Object.keys(input.steps) }),
      firstMoves.length > 0 ? this.movesJson(runId, firstMoves) : '',
    )) as [string, number, number[]?, string?];
    if (created !== 1) return { runId: id, created: false };
    this.learn(id, input.incidentId);
    return { runId: id, created: true, moves: { applied: (applied ?? []).map((a) => a === 1), statuses: statusMap(statuses ?? ''), runStatus: 'running' } };
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

  /** The run's head and every step's status: what deciding the next steps needs. */
  async runStatuses(runId: string): Promise<{ run: RunHead; statuses: StepStatusMap } | null> {
    const [head, statuses] = (await this.runScript('responderRunStatuses', runId, runId)) as [RawHead, string];
    const run = runHead(head);
    return run ? { run, statuses: statusMap(statuses) } : null;
  }

  /**
   * The outputs (JSON text) of these steps, with their errors and skip reasons, read for the
   * expressions that name them; the other fields of their states are not returned.
   */
  async stepOutputs(runId: string, stepIds: readonly string[] | 'all'): Promise<Map<string, StepResultText | undefined>> {
    const key = `${this.key('run', runId)}:steps`;
    const out = new Map<string, StepResultText | undefined>();
    const pick = (raw: string): StepResultText => {
      const { outputJson, error, reason } = JSON.parse(raw) as StepState;
      return { outputJson, error, reason };
    };
    if (stepIds === 'all') {
      for (const [id, raw] of Object.entries(await this.redis.hgetall(key))) out.set(id, pick(raw));
    } else if (stepIds.length > 0) {
      const raws = await this.redis.hmget(key, ...stepIds);
      stepIds.forEach((id, i) => out.set(id, raws[i] ? pick(raws[i]) : undefined));
    }
    return out;
  }

  /**
   * What a step job does first, in one call: reads the run's head and the step, and moves a
   * read-only step that is queued to running (or, after a crash, running again: step.resumed),
   * with its timeline entry. A mutating step is read with the kill switch, not started: its gates
   * (kill switch, lock) come before its start. Either comes with every step's status after the start:
   * what follows the step is decided from them (`settleStep`).
   */
  async startStep(runId: string, stepId: string, at = this.now()): Promise<StepStart> {
    return stepStart((await this.runScript('responderStartStep', runId, runId, stepId, at)) as RawStart);
  }

  /**
   * A step's last move (its outcome) and the moves that follow it, in one call. `next` was decided
   * from `decidedFrom` (the statuses read when the step started, with `last` as if applied), before
   * this call: it is made only if `last` applied, the run is running and every other step's status
   * is still the one in `decidedFrom`. Otherwise only `last` is made, and the caller decides again
   * from the statuses returned. `applied` is `last`'s, then one per move of `next`; the statuses are
   * left out (null) when every move applied as decided: they are `decidedFrom` with the moves made.
   */
  async settleStep(runId: string, last: StepMove, next: StepMove[], decidedFrom: StepStatusMap): Promise<FinishResult> {
    const raw = (await this.runScript('responderSettleStep', runId, runId, this.now(), this.movesJson(runId, [last]), this.movesJson(runId, next), JSON.stringify(decidedFrom))) as RawMoves;
    return movesResult([last, ...next], raw);
  }

  /**
   * Several compare-and-set moves of one run's steps, in order, in one atomic call, each with its
   * timeline entry (as `transition` does for one); returns which applied and every step's status
   * after them.
   */
  async moveSteps(runId: string, moves: StepMove[]): Promise<MovesResult> {
    const result = movesResult(moves, (await this.runScript('responderMoveSteps', runId, runId, this.now(), this.movesJson(runId, moves))) as RawMoves);
    return { ...result, statuses: result.statuses ?? {} };
  }

  private movesJson(runId: string, moves: StepMove[]): string {
    return JSON.stringify(
      moves.map((m) => ({
        s: m.stepId,
        from: m.from === '*' ? '*' : m.from.join(','),
        // undefined → null: the script deletes the field (JSON would drop it, leaving it as it was).
        patch: Object.fromEntries(Object.entries(m.patch).map(([k, v]) => [k, v === undefined ? null : v])),
        ev: m.event?.type ?? '',
        // Text, so that Lua passes it through (its cjson would write an empty array as {}).
        data: eventJson(runId, m.stepId, m.event),
        ...(m.after !== undefined ? { after: m.after } : {}),
      })),
    );
  }

  /** runbook name → run id, for an incident. */
  async runsOf(incidentId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(`${this.prefix}:incident:${incidentId}:runs`);
  }

  /** runsOf for several incidents, in one round trip. */
  async runsOfMany(incidentIds: string[]): Promise<Record<string, string>[]> {
    if (incidentIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of incidentIds) pipeline.hgetall(`${this.prefix}:incident:${id}:runs`);
    return ((await pipeline.exec()) ?? []).map(([err, value]) => {
      if (err) throw err;
      return value as Record<string, string>;
    });
  }

  /** An incident's runs, oldest first (what the API, the RCA and Slack show). */
  async runsOfIncident(incidentId: string): Promise<RunRecord[]> {
    const runs = await Promise.all(Object.values(await this.runsOf(incidentId)).map((id) => this.getRun(id)));
    return runs.filter((r): r is RunRecord => r !== null).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
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
    const [ok, value] = (await this.runScript(
      'responderTransitionStep',
      runId,
      runId,
      stepId,
      from === '*' ? '*' : from.join(','),
      JSON.stringify(patch, (_k, v: unknown) => (v === undefined ? null : v)),
      event?.type ?? '',
      eventJson(runId, stepId, event),
      this.now(),
    )) as [number, string];
    return ok === 1 ? normalise(JSON.parse(value) as StepState) : null;
  }

  async addApproval(
    runId: string,
    stepId: string,
    approver: string,
    paramsHash: string,
    needed: number,
    detail: ApprovalDetail = {},
  ): Promise<{ outcome: ApprovalOutcome; state?: StepState; status?: string }> {
    const now = this.now();
    const [outcome, value] = (await this.runScript(
      'responderAddApproval',
      runId,
      runId,
      stepId,
      approver,
      paramsHash,
      needed,
      now,
      JSON.stringify({ status: 'queued', queuedAt: now }),
      JSON.stringify(Object.fromEntries(Object.entries(detail).filter(([, v]) => v !== undefined))),
    )) as [ApprovalOutcome, string];
    if (outcome === 'not_pending') return { outcome, status: value };
    return { outcome, state: normalise(JSON.parse(value) as StepState) };
  }

  async finishRun(runId: string, status: Exclude<RunStatus, 'running'>, data: Record<string, unknown>): Promise<boolean> {
    return (await this.runScript('responderFinishRun', runId, runId, status, this.now(), JSON.stringify({ runId, status, ...data }))) === 1;
  }

  async appendTimeline(incidentId: string, type: string, data: Record<string, unknown>): Promise<void> {
    const write = this.redis
      .multi()
      .xadd(this.keys.timeline(incidentId), '*', 'type', type, 'at', this.now(), 'data', JSON.stringify(data))
      .xadd(this.keys.changes(), 'MAXLEN', '~', CHANGES_MAXLEN, '*', 'incident', incidentId, 'type', type);
    if (isAlarmChange(type)) write.xadd(this.keys.alarmChanges(), 'MAXLEN', '~', CHANGES_MAXLEN, '*', 'incident', incidentId, 'type', type);
    await write.exec();
  }

  // --- idempotency ledger -------------------------------------------------------------------

  async ledgerBegin(key: string): Promise<LedgerBegin> {
    const [kind, value] = (await this.cmd.responderLedgerBegin(1, this.keys.ledger(key), this.now())) as [string, string];
    if (kind === 'done') return { kind, resultJson: value };
    return { kind: kind as 'call' | 'uncalled' | 'reconcile', attempt: Number(value) };
  }

  /** Records that the attempt's call starts now (see LEDGER_CALLING_LUA); false if it is not at `intent`. */
  async ledgerCalling(key: string, attempt: number): Promise<boolean> {
    return (await this.cmd.responderLedgerCalling(1, this.keys.ledger(key), attempt, this.now())) === 1;
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
    const ok = await this.cmd.responderAcquireLock(1, this.keys.lock(resource), holder, token, ttlMs);
    return ok === 1 ? token : null;
  }

  async lockHolder(resource: string): Promise<string | null> {
    return this.redis.get(this.key('lock', resource));
  }

  async extendLock(resource: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.cmd.responderExtendLock(1, this.keys.lock(resource), token, ttlMs)) === 1;
  }

  async releaseLock(resource: string, token: string): Promise<void> {
    await this.cmd.responderReleaseLock(1, this.keys.lock(resource), token);
  }

  /**
   * Claims the cooldown of a scope (a service: one mutating call on it, then `seconds` of quiet)
   * for `holder` (`runId/stepId`), unless another holder's cooldown runs there; `exempt` lists the
   * holders this call may follow at once (itself, and the steps of its run it needs). With
   * `seconds` 0 nothing is claimed and nothing holds.
   */
  async claimCooldown(scope: string, holder: string, exempt: readonly string[], seconds: number, data: Record<string, unknown>): Promise<Cooldown | null> {
    if (seconds <= 0) return null;
    const [raw, ttl] = (await this.cmd.responderClaimCooldown(
      1,
      this.keys.cooldown(scope),
      JSON.stringify([holder, ...exempt]),
      Math.ceil(seconds),
      JSON.stringify({ ...data, holder, at: this.now() }),
    )) as [string, number];
    return raw ? { secondsLeft: ttl, data: JSON.parse(raw) as Cooldown['data'] } : null;
  }

  /** Restarts a claimed cooldown when the call ends: the quiet time counts from the change. */
  async restartCooldown(scope: string, holder: string, seconds: number, data: Record<string, unknown>): Promise<void> {
    if (seconds <= 0) return;
    await this.redis.set(this.key('cooldown', scope), JSON.stringify({ ...data, holder, at: this.now() }), 'EX', Math.ceil(seconds));
  }

  /** Gives the scope back when the holder's call did not take effect (nothing changed to wait after). */
  async releaseCooldown(scope: string, holder: string): Promise<void> {
    await this.cmd.responderReleaseCooldown(1, this.keys.cooldown(scope), holder);
  }

  /** The running cooldown of a scope, with the seconds left, or null. */
  async cooldown(scope: string): Promise<Cooldown | null> {
    const key = this.key('cooldown', scope);
    const [[, raw], [, ttl]] = (await this.redis.multi().get(key).ttl(key).exec()) as [[null, string | null], [null, number]];
    return raw ? { secondsLeft: ttl, data: JSON.parse(raw) as Cooldown['data'] } : null;
  }

  async setPaused(paused: boolean, by: string, reason?: string): Promise<boolean> {
    const key = this.key('automation', 'paused');
    if (paused) return (await this.redis.set(key, JSON.stringify({ by, reason, at: this.now() }), 'NX')) === 'OK';
    return (await this.redis.del(key)) === 1;
  }

  async paused(): Promise<Pause | null> {
    const raw = await this.redis.get(this.key('automation', 'paused'));
    return raw ? (JSON.parse(raw) as Pause) : null;
  }

  private key(kind: string, id: string): string {
    return `${this.prefix}:${kind}:${id}`;
  }
}

type RawHead = [string | null, string | null, string | null, string | null, string | null, string | null];
type RawStart = [string, unknown, unknown, unknown, unknown];
type RawMoves = [number[], string | null, RunStatus | null];

function stepStart([kind, a, b, c, d]: RawStart): StepStart {
  if (kind === 'settled') return { kind, status: a as StepStatus };
  const run = kind === 'gated' || kind === 'started' ? runHead(a as RawHead) : null;
  if (!run) return { kind: 'missing' };
  const state = normalise(JSON.parse(b as string) as StepState);
  const statuses = statusMap(d as string);
  if (kind === 'started') return { kind, run, state, statuses };
  return { kind: 'gated', run, state, paused: c ? (JSON.parse(c as string) as Pause) : null, statuses };
}

function movesResult(moves: StepMove[], [applied, text, runStatus]: RawMoves): FinishResult {
  return { applied: moves.map((_, i) => applied[i] === 1), statuses: text === null ? null : statusMap(text), runStatus };
}

/** The fields HMGET read in RUN_HEAD's order: id, incidentId, runbook, service, status, inputsJson. */
function runHead([id, incidentId, runbook, service, status, inputsJson]: RawHead): RunHead | null {
  if (!id || !incidentId || !runbook) return null;
  return { id, incidentId, runbook, service: service ?? undefined, status: (status ?? 'running') as RunStatus, inputsJson: inputsJson ?? '{}' };
}

/** "id status id status …" (see run-scripts.ts) → { id: status }. */
function statusMap(text: string): StepStatusMap {
  const out: StepStatusMap = {};
  const parts = text === '' ? [] : text.split(' ');
  for (let i = 0; i + 1 < parts.length; i += 2) out[parts[i]] = parts[i + 1] as StepStatus;
  return out;
}

function eventJson(runId: string, stepId: string, event: { data: Record<string, unknown> } | undefined): string {
  return JSON.stringify({ runId, step: stepId, ...(event?.data ?? {}) });
}

/** Redis' cjson writes an empty array as {}: give arrays back their shape. */
function normalise(state: StepState): StepState {
  if (state.approvals && !Array.isArray(state.approvals)) state.approvals = Object.values(state.approvals);
  return state;
}
