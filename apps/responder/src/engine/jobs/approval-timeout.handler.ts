import { Injectable } from '@nestjs/common';
import { RunStore } from '@responder/store';
import type { QueuedJob } from '../../queue';
import { stepEvent } from '../decider/prepare-step';
import { runGraph } from '../decider/run-graph';
import { RunCoordinator } from '../run-coordinator';
import { RunbookRegistry } from '../runbook-registry';
import type { JobHandler, JobOf } from './job-handler';

/**
 * `approval-timeout`: a step still waiting for approval when its timeout comes is timed out. The
 * timeout counts from the request the step waits on now (`requestedAt`): a timeout job left from
 * an earlier request of the same step (a re-plan asks again under the same job id; the sweep may
 * put one back) is put back until the current request's time, not allowed to end it early.
 */
@Injectable()
export class ApprovalTimeoutHandler implements JobHandler<'approval-timeout'> {
  readonly jobName = 'approval-timeout';

  constructor(
    private readonly runs: RunStore,
    private readonly registry: RunbookRegistry,
    private readonly coordinator: RunCoordinator,
  ) {}

  async handle(job: QueuedJob<JobOf<'approval-timeout'>>): Promise<void> {
    const { runId, stepId } = job.data;
    const due = await this.dueAt(runId, stepId);
    if (due !== null && due > Date.now()) return job.holdFor(due - Date.now(), 'the approval was requested again since this timeout was scheduled');
    const timedOut = await this.runs.transition(
      runId,
      stepId,
      ['awaiting_approval'],
      { status: 'timed_out', approval: 'timed_out', finishedAt: new Date().toISOString() },
      stepEvent('approval.timed_out', { reason: 'no decision before the step timeout' }),
    );
    if (timedOut) await this.coordinator.advance(runId);
  }

  /** When the request the step waits on now times out; null when it waits on none (or the runbook is not loaded here). */
  private async dueAt(runId: string, stepId: string): Promise<number | null> {
    const run = await this.runs.getRunStep(runId, stepId);
    const state = run?.steps[stepId];
    const runbook = run ? this.registry.runbookOf(run) : undefined;
    const step = runbook ? runGraph(runbook).byId.get(stepId) : undefined;
    if (state?.status !== 'awaiting_approval' || !state.requestedAt || !step) return null;
    return Date.parse(state.requestedAt) + step.timeoutMs;
  }
}
