import { Injectable } from '@nestjs/common';
import { type Incident, type RunHead, type RunRecord, type StepResultText, type StepStatusMap, repeatedMitigation } from '@responder/domain';
import { type RunbookStep, type StepContext, buildContext, stepReads } from '@responder/runbooks';
import { IncidentStore, MitigationHistory, RunStore } from '@responder/store';
import { REPEATED_MITIGATIONS } from './decider/prepare-step';
import { RunbookRegistry } from './runbook-registry';

/**
 * The expression context of a run's steps, always from the store (never from process memory): the
 * statuses at hand, and only what the steps' expressions read besides (outputs, the incident).
 */
@Injectable()
export class RunContextLoader {
  constructor(
    private readonly registry: RunbookRegistry,
    private readonly incidents: IncidentStore,
    private readonly runs: RunStore,
    private readonly history: MitigationHistory,
  ) {}

  /** A new run's context (`of`), with the repeat rule's answers when its first steps mutate. */
  async forNewRun(incident: Incident, inputs: Record<string, unknown>, statuses: StepStatusMap, forSteps: RunbookStep[]): Promise<Record<string, unknown>> {
    return this.withRepeats(this.of(incident, inputs, statuses), incident.id, incident.service, forSteps);
  }

  /**
   * Adds, for each mutating action of these steps that "succeeded" in two other incidents of the
   * service within a day (libs/domain repeatedMitigation), why a person must decide: the decider
   * then asks instead of running it on its own. Not an expression field (not enumerable).
   */
  private async withRepeats(context: Record<string, unknown>, incidentId: string, service: string | null, forSteps: RunbookStep[]): Promise<Record<string, unknown>> {
    const actions = [...new Set(forSteps.filter((s) => s.mutating).map((s) => s.action))];
    if (!service || actions.length === 0) return context;
    const now = Date.now();
    const repeats: Record<string, string> = {};
    for (const action of actions) {
      const why = repeatedMitigation(action, service, incidentId, await this.history.recent(service, action, now), now);
      if (why) repeats[action] = why;
    }
    Object.defineProperty(context, REPEATED_MITIGATIONS, { value: repeats, enumerable: false });
    return context;
  }

  /**
   * The context for these steps, with the statuses at hand; null when the incident is gone.
   * `atHand`: results not stored yet (the outcome of a step being recorded with these steps' moves).
   */
  async forSteps(run: RunHead, forSteps: RunbookStep[], statuses: StepStatusMap, atHand: ReadonlyMap<string, StepResultText> = new Map()): Promise<Record<string, unknown> | null> {
    let outputs: Set<string> | 'all' = new Set();
    let readsIncident = run.service === undefined; // a run from before `service` was stored
    for (const step of forSteps) {
      const reads = stepReads(step);
      readsIncident ||= reads.incident;
      if (reads.outputs === 'all') outputs = 'all';
      else if (outputs !== 'all') for (const id of reads.outputs) outputs.add(id);
    }
    // The incident (its alarms change as they attach) is read only when the steps at hand read it.
    const [incident, results] = await Promise.all([
      readsIncident ? this.incidents.get(run.incidentId) : incidentStub(run.incidentId, run.service || null),
      this.runs.stepOutputs(run.id, outputs === 'all' ? 'all' : [...outputs].filter((id) => !atHand.has(id))),
    ]);
    if (!incident) return null;
    for (const [id, result] of atHand) if (outputs === 'all' || outputs.has(id)) results.set(id, result);
    const context = this.of(incident, JSON.parse(run.inputsJson) as Record<string, unknown>, statuses, results);
    return this.withRepeats(context, run.incidentId, run.service || incident.service, forSteps);
  }

  /** The context of a run, from the whole run as stored (the approval service's checks). */
  async forRun(run: RunRecord, forSteps?: RunbookStep[]): Promise<Record<string, unknown> | null> {
    const readsIncident = !forSteps || run.service === undefined || forSteps.some((s) => stepReads(s).incident);
    const incident = readsIncident ? await this.incidents.get(run.incidentId) : incidentStub(run.incidentId, run.service || null);
    if (!incident) return null;
    const statuses: StepStatusMap = {};
    const outputs = new Map<string, StepResultText | undefined>();
    for (const [id, s] of Object.entries(run.steps)) {
      statuses[id] = s.status;
      outputs.set(id, { outputJson: s.outputJson, error: s.error, reason: s.reason });
    }
    return this.of(incident, JSON.parse(run.inputsJson) as Record<string, unknown>, statuses, outputs);
  }

  /** The context from what is at hand (a new run: every step pending, the incident just read). */
  of(incident: Incident, inputs: Record<string, unknown>, statuses: StepStatusMap, results: Map<string, StepResultText | undefined> = new Map()): Record<string, unknown> {
    const steps: Record<string, StepContext> = {};
    for (const [id, status] of Object.entries(statuses)) steps[id] = results.has(id) ? lazyStepContext(status, results.get(id)?.outputJson, results.get(id)) : { status };
    return buildContext({ incident, service: this.registry.service(incident.service), inputs, steps, mode: this.registry.mode, now: new Date() });
  }
}

/**
 * A step's status and output for expressions (and its error or skip reason, when it has one); the
 * output is parsed only if an expression reads it.
 */
function lazyStepContext(status: StepContext['status'], outputJson: string | undefined, why?: { error?: string; reason?: string }): StepContext {
  let parsed: Record<string, unknown> | undefined;
  const context = { status } as StepContext;
  if (why?.error !== undefined) context.error = why.error;
  if (why?.reason !== undefined) context.reason = why.reason;
  Object.defineProperty(context, 'output', {
    enumerable: true,
    get: () => (parsed ??= outputJson ? (JSON.parse(outputJson) as Record<string, unknown>) : undefined),
  });
  return context;
}

/** Stands in for the incident when no step at hand reads it: only its id and service are used. */
function incidentStub(id: string, service: string | null): Incident {
  return { id, status: 'open', service, routed: service !== null, title: '', openedAt: '', resolvedAt: null, onsetAt: '', alarms: [] };
}
