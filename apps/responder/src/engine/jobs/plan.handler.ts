import { Injectable } from '@nestjs/common';
import type { QueuedJob } from '../../queue';
import { Replanner } from '../replanner';
import { RunCoordinator } from '../run-coordinator';
import type { JobHandler, JobOf } from './job-handler';

/**
 * `plan`: starts the runbooks an incident matches and has no run of; then, for a later alarm,
 * checks again the plans awaiting approval on it (a stale one is re-planned: Replanner).
 */
@Injectable()
export class PlanHandler implements JobHandler<'plan'> {
  readonly jobName = 'plan';

  constructor(
    private readonly coordinator: RunCoordinator,
    private readonly replanner: Replanner,
  ) {}

  async handle(job: QueuedJob<JobOf<'plan'>>): Promise<string[]> {
    const started = await this.coordinator.planIncident(job.data.incidentId);
    await this.replanner.recheckAwaiting(job.data.incidentId);
    return started;
  }
}
