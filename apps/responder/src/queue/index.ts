export { type AddOptions, type FailedJob, JobQueue, type JobSpec, PermanentJobError, type QueueSettings, type QueuedJob } from './job-queue';
export { jobId } from './job-id';
