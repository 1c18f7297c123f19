import type { RunStore } from '@responder/store';
import { CooldownGate, type CooldownLookup } from './cooldown.gate';
import { DryRunGate } from './dry-run.gate';
import type { Gate } from './gate';
import { GoalGate, type GoalLookup } from './goal.gate';
import { KillSwitchGate } from './kill-switch.gate';
import { LedgerGate } from './ledger.gate';
import { LockGate } from './lock.gate';
import { PlanPrecheckGate, type PlanRecheck } from './plan-precheck.gate';
import { StartGate } from './start.gate';

export { type Gate, type GateOutcome, type StepCall, type StepResult, paramsOf, runGates } from './gate';
export type { CooldownLookup } from './cooldown.gate';
export type { PlanRecheck } from './plan-precheck.gate';
export type { GoalLookup } from './goal.gate';

export interface GateDeps {
  runs: RunStore;
  mode: 'live' | 'dry-run';
  cooldowns: CooldownLookup;
  recheck: PlanRecheck;
  goals: GoalLookup;
}

/**
 * The gates a mutating step passes, in order, before its action (read-only steps pass none).
 * A new gate is one file in this folder and one line here: a check that may refuse the call goes
 * before `ledger` (the innermost gate, so that the ledger records exactly the call); one that looks
 * at what the call did (goal verification) too, wrapping `next()`.
 */
export function mutatingGates({ runs, mode, cooldowns, recheck, goals }: GateDeps): Gate[] {
  return [
    new KillSwitchGate(), // paused: held
    new LockGate(runs, mode), // one step per resource: held
    new StartGate(runs), // queued → running (or resumed after a crash)
    new PlanPrecheckGate(runs, recheck), // the world the plan was made on changed: re-planned (gone)
    new DryRunGate(mode), // dry-run: done, nothing called
    new CooldownGate(runs, cooldowns), // the service changed recently: skipped
    new GoalGate(runs, goals), // after the call: its goal verified, without a worker between checks
    new LedgerGate(runs), // at most one call per attempt; reconcile after a crash
  ];
}
