import { latestVerdict, verdictOf } from './verdict';

const verdict = (cause: string, confidence = 0.9) => ({ cause, confidence, summary: `${cause}.`, hypotheses: [{ cause, confidence, summary: cause, evidence: [{ step: 'deploy', text: 'x', link: 'https://l' }, { bad: 1 }], against: [] }], gaps: [{ step: 'logs', reason: 'r' }], impactStartedAt: null });

describe('stored verdicts', () => {
  it('reads a stored output back, leaving out malformed items', () => {
    expect(verdictOf(verdict('deployment'))?.hypotheses[0].evidence).toEqual([{ step: 'deploy', text: 'x', link: 'https://l' }]);
    expect(verdictOf({ cause: 'gremlins', confidence: 1 })).toBeNull();
    expect(verdictOf('nope')).toBeNull();
  });

  it('takes the diagnose step that finished last, of any run', () => {
    const steps = [
      { action: 'diagnose', status: 'succeeded', finishedAt: '2026-12-07T10:05:00Z', output: verdict('database') },
      { action: 'diagnose', status: 'succeeded', finishedAt: '2026-12-07T10:09:00Z', output: () => verdict('deployment') },
      { action: 'diagnose', status: 'failed', finishedAt: '2026-12-07T10:12:00Z' },
      { action: 'note', status: 'succeeded', finishedAt: '2026-12-07T10:15:00Z', output: verdict('memory') },
    ];
    expect(latestVerdict(steps)?.cause).toBe('deployment');
    expect(latestVerdict([])).toBeNull();
  });
});
