import type { Provider } from '@nestjs/common';
import { ApprovalTimeoutHandler } from './approval-timeout.handler';
import { JOB_HANDLERS } from './job-handler';
import { PlanHandler } from './plan.handler';
import { StepHandler } from './step.handler';

export { JOB_HANDLERS, type JobHandler } from './job-handler';
export { JobRouter, handlersByName } from './job-router';
export { StepHandler } from './step.handler';

/** Every handler of the engine's jobs, one per job name: the one place they are registered. */
const HANDLERS = [PlanHandler, StepHandler, ApprovalTimeoutHandler];

export const jobHandlerProviders: Provider[] = [...HANDLERS, { provide: JOB_HANDLERS, inject: HANDLERS, useFactory: (...handlers: unknown[]) => handlers }];
