import { jobId } from './job-id';

describe('jobId', () => {
  it('is the same for the same parts, so that BullMQ keeps one job', () => {
    expect(jobId('run_1', 'step')).toBe(jobId('run_1', 'step'));
    expect(jobId('timeout', 'run_1', 'step')).toBe('timeout-run_1-step');
  });

  it("replaces BullMQ's key separator", () => {
    expect(jobId('click', 'U1:1700000000.1:fix')).toBe('click-U1_1700000000.1_fix');
  });

  it('refuses an empty part instead of making an id another job may share', () => {
    expect(() => jobId('remind', '', 'step')).toThrow('a job id needs non-empty parts, got ["remind", "", "step"]');
    expect(() => jobId()).toThrow('a job id needs non-empty parts');
  });
});
