import { Injectable } from '@nestjs/common';
import { RunStore } from '@responder/store';
import type { QueuedJob } from '../../queue';
import { stepEvent } from '../decider/prepare-step';
import { RunCoordinator } from '../run-coordinator';
import type { JobHandler, JobOf } from './job-handler';

/** `approval-timeout`: a step still waiting for approval when its timeout comes is timed out. */
@Injectable()
export class ApprovalTimeoutHandler implements JobHandler<'approval-timeout'> {
  readonly jobName = 'approval-timeout';

  constructor(
    private readonly runs: RunStore,
    private readonly coordinator: RunCoordinator,
  ) {}

  async handle(job: QueuedJob<JobOf<'approval-timeout'>>): Promise<void> {
    const { runId, stepId } = job.data;
    const timedOut = await this.runs.transition(
      runId,
      stepId,
      ['awaiting_approval'],
      { status: 'timed_out', approval: 'timed_out', finishedAt: new Date().toISOString() },
      stepEvent('approval.timed_out', { reason: 'no decision before the step timeout' }),
    );
    if (timedOut) await this.coordinator.advance(runId);
  }
}
