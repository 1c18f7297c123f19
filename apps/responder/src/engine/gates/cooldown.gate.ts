import { PermanentActionError, type RunHead } from '@responder/domain';
import type { RunStore } from '@responder/store';
import type { Gate, GateOutcome, StepCall } from './gate';

/** What the cooldown gate needs to know of the run beyond the store. */
export interface CooldownLookup {
  /** The run's service (null: an unrouted incident). */
  serviceOf(run: RunHead): Promise<string | null>;
  /** The service's cooldown in minutes (0: none). */
  cooldownMinutes(service: string | null): number;
  /** The steps the runbook sequences before this one: their changes do not hold it. */
  ancestors(run: RunHead, stepId: string): string[];
}

/**
 * One cooldown per service, whatever the action and resource: after a mutating action changed a
 * service, another one on it is skipped (with why and how long is left) until the cooldown ends,
 * except later steps of the same run that depend on the first. An unrouted incident has no catalog
 * limits: its scope is the resource, with no cooldown. A call that did not take effect releases it.
 */
export class CooldownGate implements Gate {
  readonly name = 'cooldown';

  constructor(
    private readonly runs: Pick<RunStore, 'ledger' | 'claimCooldown' | 'restartCooldown' | 'releaseCooldown'>,
    private readonly lookup: CooldownLookup,
  ) {}

  async pass(call: StepCall, next: () => Promise<GateOutcome>): Promise<GateOutcome> {
    const { run, step, resource } = call;
    const holder = `${run.id}/${step.id}`;
    const service = await this.lookup.serviceOf(run);
    const scope = service ? `service:${service}` : resource;
    const minutes = this.lookup.cooldownMinutes(service);
    const data = { action: step.action, resource, runId: run.id, step: step.id, incidentId: run.incidentId };
    const ledgerState = (await this.runs.ledger(`${run.id}:${step.id}`)).state;
    // A step resumed after it called (calling, done) reconciles whatever the cooldown says; one
    // that only recorded its intent never called, so it claims again like a first attempt.
    if (ledgerState === undefined || ledgerState === 'failed' || ledgerState === 'intent') {
      const exempt = this.lookup.ancestors(run, step.id).map((id) => `${run.id}/${id}`);
      const held = await this.runs.claimCooldown(scope, holder, exempt, minutes * 60, data);
      if (held) {
        const d = held.data;
        const what = d.runId === run.id ? `step ${String(d.step)} of this run` : `step ${String(d.step)} of incident ${String(d.incidentId)}`;
        return { kind: 'skipped', reason: `cooldown: ${String(d.action)} (${what}) changed service ${service} at ${d.at}; ${held.secondsLeft}s left of ${minutes} min before another mutating action on it` };
      }
    }
    let outcome: GateOutcome;
    try {
      outcome = await next();
    } catch (err) {
      // A call that did not take effect changed nothing to wait after.
      if (err instanceof PermanentActionError || (err as { notApplied?: boolean }).notApplied === true) await this.runs.releaseCooldown(scope, holder);
      throw err;
    }
    // Changed (or known to have changed): the cooldown starts now. Refused by a later gate: nothing changed.
    if (outcome.kind === 'done') await this.runs.restartCooldown(scope, holder, minutes * 60, data);
    // Called, its goal still being verified: the claim stands until the step's outcome.
    else if (outcome.kind === 'again') return outcome;
    else await this.runs.releaseCooldown(scope, holder);
    return outcome;
  }
}
