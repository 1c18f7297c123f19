import { resumeAfterMs, resumeFrom } from './step-executor';

describe('a step resumed from its checkpoint', () => {
  const startedAt = '2026-01-01T10:00:00.000Z';
  const at = Date.parse(startedAt);

  it('is called with the checkpoint and what is left of its timeout, which counts from its start', () => {
    expect(resumeFrom({ checkpointJson: '{"until":5}', startedAt }, 60_000, at + 45_000)).toEqual({ checkpoint: { until: 5 }, timeoutMs: 15_000 });
    // Past its timeout: nothing left (the invoker fails it for good).
    expect(resumeFrom({ checkpointJson: '{}', startedAt }, 60_000, at + 61_000).timeoutMs).toBe(-1000);
  });

  it('starts afresh, with its whole timeout, when it has no checkpoint', () => {
    expect(resumeFrom({ startedAt }, 60_000, at + 45_000)).toEqual({});
  });

  it('runs again when its action asked, or at its timeout when that is sooner', () => {
    expect(resumeAfterMs(10_000, startedAt, 60_000, at + 1000)).toBe(10_000);
    expect(resumeAfterMs(300_000, startedAt, 60_000, at + 1000)).toBe(59_000);
    expect(resumeAfterMs(300_000, startedAt, 60_000, at + 61_000)).toBe(0);
    expect(resumeAfterMs(5000, undefined, 60_000, at)).toBe(5000);
  });
});
