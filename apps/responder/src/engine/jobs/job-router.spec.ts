import { Logger } from '@nestjs/common';
import type { AppConfig } from '../../config/config';
import { PermanentJobError, type QueuedJob } from '../../queue';
import type { RunCoordinator } from '../run-coordinator';
import { ENGINE_JOB_NAMES, type EngineJob, type StepQueue } from '../step-queue';
import type { JobHandler } from './job-handler';
import { JobRouter, handlersByName } from './job-router';

const handler = (jobName: string, answer: unknown = null): JobHandler => ({ jobName, handle: jest.fn(() => Promise.resolve(answer)) }) as unknown as JobHandler;
const all = () => ENGINE_JOB_NAMES.map((name) => handler(name, name));
const router = (handlers: JobHandler[]) => new JobRouter(handlers, { role: 'all' } as AppConfig, {} as StepQueue, {} as RunCoordinator);
const job = (name: string) => ({ name, data: {} }) as unknown as QueuedJob<EngineJob>;

describe('the engine job handlers', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('has one handler for each job name of the queue', () => {
    expect([...handlersByName(all(), ENGINE_JOB_NAMES).keys()].sort()).toEqual([...ENGINE_JOB_NAMES].sort());
  });

  it('refuses to boot with a job name that has no handler, naming it', () => {
    expect(() => router(all().filter((h) => h.jobName !== 'approval-timeout'))).toThrow(
      'engine job handlers: no handler for "approval-timeout" jobs (register them in apps/responder/src/engine/jobs/index.ts)',
    );
  });

  it('refuses to boot with a handler for an unknown job name, or two for one name', () => {
    expect(() => router([...all(), handler('rollback')])).toThrow('a handler for "rollback", which is not a job of the engine\'s queue (plan, step, approval-timeout)');
    expect(() => router([...all(), handler('plan')])).toThrow('two handlers for "plan"');
  });

  it('gives each job to its handler, and fails a job of an unknown name for good', async () => {
    const r = router(all());
    expect(await r.handle(job('step'))).toBe('step');
    await expect(r.handle(job('mystery'))).rejects.toThrow(PermanentJobError);
  });

  it('puts back a job whose store went away under it (not an attempt), and lets any other error fail the attempt', async () => {
    const failing = (message: string) => ({ jobName: 'step', handle: jest.fn(() => Promise.reject(new Error(message))) }) as unknown as JobHandler;
    const held = (message: string) => {
      const holdFor = jest.fn(() => Promise.reject(new Error('held')));
      const r = router([...all().filter((h) => h.jobName !== 'step'), failing(message)]);
      return { result: r.handle({ ...job('step'), holdFor }), holdFor };
    };
    for (const message of ["Stream isn't writeable and enableOfflineQueue options is false", 'Reached the max retries per request limit (which is 1).', 'Command timed out', 'Connection is closed.']) {
      const { result, holdFor } = held(message);
      await expect(result).rejects.toThrow('held');
      expect(holdFor).toHaveBeenCalledWith(1000, 'Redis is unreachable');
    }
    // An action's error (AWS throttling, a socket reset) stays the step's: it fails the attempt.
    for (const message of ['Rate exceeded', 'read ECONNRESET']) {
      const { result, holdFor } = held(message);
      await expect(result).rejects.toThrow(message);
      expect(holdFor).not.toHaveBeenCalled();
    }
  });
});
