import { Injectable } from '@nestjs/common';
import type { QueuedJob } from '../../queue';
import { RunCoordinator } from '../run-coordinator';
import type { JobHandler, JobOf } from './job-handler';

/** `plan`: starts the runbooks an incident matches and has no run of. */
@Injectable()
export class PlanHandler implements JobHandler<'plan'> {
  readonly jobName = 'plan';

  constructor(private readonly coordinator: RunCoordinator) {}

  handle(job: QueuedJob<JobOf<'plan'>>): Promise<string[]> {
    return this.coordinator.planIncident(job.data.incidentId);
  }
}
