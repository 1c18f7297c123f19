import type { Incident, TimelineEntry } from '@responder/domain';
import { failedRequests } from './impact';
import { type RcaInput, type RcaStep, buildRca } from './model';
import { type RcaOutcome, classifyOutcome, median, outcomeStats } from './outcome';
import { renderRca } from './rca';

const T0 = Date.parse('2024-11-22T10:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();
let seq = 0;
const entry = (min: number, type: string, data: Record<string, unknown> = {}): TimelineEntry => ({ id: `${T0 + min * 60_000}-${seq++}`, at: at(min), type, data });

/** An incident whose alarm fired at minute 0, the impact having started at minute -4 (the verdict says so). */
function input(opts: { resolvedAt?: number; steps?: RcaStep[]; timeline?: TimelineEntry[]; cause?: string; postmortem?: Incident['postmortem'] }): RcaInput {
  const timeline = [
    entry(0.5, 'alarm.received', { alarm: 'checkout-5xx', state: 'ALARM', stateChangedAt: at(0) }),
    entry(0.5, 'incident.opened', { service: 'checkout' }),
    entry(2, 'step.succeeded', { step: 'diagnose', action: 'diagnose' }),
    ...(opts.timeline ?? []),
    ...(opts.resolvedAt !== undefined ? [entry(opts.resolvedAt, 'incident.resolved')] : []),
  ].sort((a, b) => a.at.localeCompare(b.at));
  const cause = opts.cause ?? 'deployment';
  return {
    incident: {
      id: 'inc_01JD3M4X9QZ0000000000',
      status: opts.resolvedAt !== undefined ? 'resolved' : 'open',
      service: 'checkout',
      routed: true,
      title: 'checkout-5xx',
      openedAt: at(0.5),
      resolvedAt: opts.resolvedAt !== undefined ? at(opts.resolvedAt) : null,
      onsetAt: at(0),
      alarms: [],
      ...(opts.postmortem ? { postmortem: opts.postmortem } : {}),
    },
    timeline,
    runs: [
      {
        runbook: 'production-down',
        steps: [
          { id: 'diagnose', action: 'diagnose', status: 'succeeded', mutating: false, finishedAt: at(2), output: { cause, confidence: 0.9, summary: `${cause} it is`, impactStartedAt: at(-4), hypotheses: [{ cause, confidence: 0.9, summary: 's', evidence: [], against: [] }], gaps: [] } },
          ...(opts.steps ?? []),
        ],
      },
    ],
    now: new Date(T0 + 60 * 60_000),
  };
}

const rollback = (over: Partial<RcaStep> = {}): RcaStep => ({ id: 'rollback', action: 'deploy.rollback', status: 'succeeded', mutating: true, approval: 'policy', approvedBy: 'policy:recent-deploy', output: { requestId: 'r-1' }, startedAt: at(3), finishedAt: at(5), ...over });
const scaleUp = (over: Partial<RcaStep> = {}): RcaStep => ({ id: 'scale-up', action: 'ecs.scale-up', status: 'succeeded', mutating: true, approval: 'granted', approvedBy: 'alice', approvals: [{ by: 'alice' }], output: { requestId: 'r-2' }, startedAt: at(6), finishedAt: at(7), ...over });

describe('the outcome of an incident', () => {
  it('policy: every step that changed production was granted by a policy; phases from the timeline', () => {
    const { outcome } = buildRca(input({ resolvedAt: 12, steps: [rollback()], timeline: [entry(5, 'step.succeeded', { step: 'rollback', action: 'deploy.rollback' })] }));
    expect(outcome).toEqual<RcaOutcome>({
      outcome: 'policy',
      text: 'mitigated by Responder alone: rollback, granted by policy',
      cause: 'deployment',
      phases: { detectMs: 4 * 60_000, diagnoseMs: 2 * 60_000, acknowledgeMs: null, mitigateMs: 5 * 60_000, recoverMs: 7 * 60_000, restoreMs: 16 * 60_000 },
      failedDeploymentRecoveryMs: 16 * 60_000,
      recovered: true,
    });
  });

  it("approved: one of them was approved by a person (even beside a policy's); the first human response is the approval", () => {
    const { outcome } = buildRca(
      input({
        resolvedAt: 20,
        cause: 'capacity',
        steps: [rollback(), scaleUp()],
        timeline: [entry(5, 'step.succeeded', { step: 'rollback' }), entry(5.5, 'approval.granted', { step: 'scale-up', by: 'alice' }), entry(7, 'step.succeeded', { step: 'scale-up' })],
      }),
    );
    expect(outcome.outcome).toBe('approved');
    expect(outcome.text).toBe("mitigated by Responder with a person's approval: rollback, scale-up");
    expect(outcome.phases.acknowledgeMs).toBe(5.5 * 60_000);
    // Not a deployment: no failed deployment recovery time.
    expect(outcome.failedDeploymentRecoveryMs).toBeNull();
  });

  it('people: resolved with no step that changed production (a dry run, a rejected step and a scale-up with nothing to change do not count)', () => {
    const steps = [
      rollback({ status: 'dry-run', output: {} }),
      scaleUp({ output: { skipped: true, reason: 'already at the maximum', desiredCount: 8 }, summary: 'checkout: already at the maximum, not scaled' }),
      { id: 'failover', action: 'aurora.failover', status: 'rejected', mutating: true, approval: 'rejected', plan: 'FailoverDBCluster' },
    ];
    const model = buildRca(input({ resolvedAt: 30, steps, timeline: [entry(8, 'approval.rejected', { step: 'failover', by: 'carol', reason: 'no' })] }));
    expect(model.outcome).toMatchObject({ outcome: 'people', recovered: true, phases: { mitigateMs: null, recoverMs: null, restoreMs: 34 * 60_000, acknowledgeMs: 8 * 60_000 } });
    expect(model.outcome.failedDeploymentRecoveryMs).toBe(34 * 60_000);
    expect(model.keyTimes.mitigated).toBeNull();
    expect(model.summary.mitigations).toEqual([]);
    // None of them made a call: each says why, and none has a request id line.
    expect(model.actions.map((a) => [a.step, a.called, a.notCalled])).toEqual([
      ['rollback', false, 'a dry run: planned, never called; production was not changed'],
      ['scale-up', false, 'nothing to change (already at the maximum): checkout: already at the maximum, not scaled'],
      ['failover', false, 'rejected by carol: no'],
    ]);
    expect(renderRca(input({ resolvedAt: 30, steps }))).not.toContain('Request id');
  });

  it('not_mitigated: open and nothing changed production; an open incident that Responder mitigated is not recovered yet', () => {
    expect(buildRca(input({})).outcome).toMatchObject({ outcome: 'not_mitigated', recovered: false, failedDeploymentRecoveryMs: null, phases: { restoreMs: null } });
    const open = buildRca(input({ steps: [rollback()], timeline: [entry(5, 'step.succeeded', { step: 'rollback' })] })).outcome;
    expect(open).toMatchObject({ outcome: 'policy', recovered: false, text: 'mitigated by Responder alone: rollback, granted by policy (not recovered yet)', phases: { mitigateMs: 5 * 60_000, recoverMs: null } });
  });

  it('a failed step is a call: it keeps its request id line', () => {
    const md = renderRca(input({ resolvedAt: 30, steps: [rollback({ status: 'failed', error: 'ClientException: INACTIVE', output: undefined })] }));
    expect(md).toContain('- Outcome: failed: ClientException: INACTIVE');
    expect(md).toContain('- Request id: —');
    expect(buildRca(input({ resolvedAt: 30, steps: [rollback({ status: 'failed', output: undefined })] })).outcome.outcome).toBe('people');
  });

  it('detect is null when no impact start was measured (the onset is the alarm itself)', () => {
    expect(classifyOutcome({ resolved: true, cause: null, onset: T0, alarm: T0, recoveredAt: T0 + 60_000, changes: [] }).phases).toEqual({
      detectMs: null,
      diagnoseMs: null,
      acknowledgeMs: null,
      mitigateMs: null,
      recoverMs: null,
      restoreMs: 60_000,
    });
  });
});

describe('medians of the phases', () => {
  it('median: the middle value, the mean of the two middle ones for an even count, null for none', () => {
    expect(median([])).toBeNull();
    expect(median([5])).toBe(5);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([10, 1, 4, 7])).toBe(5.5);
    // Not the mean: one long incident does not move it.
    expect(median([60, 60, 60, 86_400])).toBe(60);
  });

  it('outcomeStats counts by outcome and gives each phase its count and median, leaving out the incidents without it', () => {
    const of = (outcome: RcaOutcome['outcome'], mitigateMs: number | null, restoreMs: number | null, deploy: boolean): RcaOutcome => ({
      outcome,
      text: '',
      cause: deploy ? 'deployment' : 'capacity',
      phases: { detectMs: 60_000, diagnoseMs: 30_000, acknowledgeMs: null, mitigateMs, recoverMs: null, restoreMs },
      failedDeploymentRecoveryMs: deploy ? restoreMs : null,
      recovered: restoreMs !== null,
    });
    const stats = outcomeStats([of('policy', 120_000, 600_000, true), of('policy', 180_000, 900_000, true), of('approved', 600_000, 1_800_000, false), of('not_mitigated', null, null, true)]);
    expect(stats.incidents).toBe(4);
    expect(stats.outcomes).toEqual({ policy: 2, approved: 1, people: 0, not_mitigated: 1 });
    expect(stats.phases.detect).toEqual({ count: 4, medianMs: 60_000 });
    expect(stats.phases.mitigate).toEqual({ count: 3, medianMs: 180_000 });
    expect(stats.phases.acknowledge).toEqual({ count: 0, medianMs: null });
    expect(stats.phases.restore).toEqual({ count: 3, medianMs: 900_000 });
    expect(stats.failedDeploymentRecovery).toEqual({ count: 2, medianMs: 750_000 });
  });
});

describe('the failed-request estimate', () => {
  const query = (name: string, dims: Record<string, string>) => ({ namespace: 'AWS/ApplicationELB', name, dimensions: dims, stat: 'Sum', period: 60 });
  // 20 one-minute points (minute -10 to 9): 0 before minute 0, 10 a minute from it; kept in buckets of 2 (10 buckets).
  const series = (perMinute: number): Array<[number, number]> => Array.from({ length: 10 }, (_, i) => [T0 + (i * 2 - 10) * 60_000, i * 2 - 10 >= 0 ? perMinute : 0]);

  it('adds up the ELB and target 5xx counts over the impact window from their averaged buckets, each query once', () => {
    const metrics = [
      { id: 'alarm0', label: 'alarm: ELB 5xx', query: query('HTTPCode_ELB_5XX_Count', { LoadBalancer: 'app/x/1' }), series: series(10), points: 20, current: 10 },
      { id: 'elb5xx', label: 'ELB 5xx', query: query('HTTPCode_ELB_5XX_Count', { LoadBalancer: 'app/x/1' }), series: series(10), points: 20, current: 10 },
      { id: 'target5xx', label: 'target 5xx', query: query('HTTPCode_Target_5XX_Count', { TargetGroup: 'tg/1', LoadBalancer: 'app/x/1' }), series: series(5), points: 20, current: 5 },
      { id: 'requests', label: 'requests', query: query('RequestCount', {}), series: series(1000), points: 20, current: 1000 },
    ];
    const f = failedRequests(metrics, T0, T0 + 10 * 60_000, 'recovery');
    // 10 minutes at 10 + 5 a minute, counted; the series end at the recovery: nothing extrapolated.
    expect(f).toMatchObject({ estimate: 150, counted: 150, extrapolated: 0, metrics: ['alarm: ELB 5xx', 'target 5xx'], countedUntil: new Date(T0 + 10 * 60_000).toISOString() });
    // A window starting inside a bucket counts its share of it.
    expect(failedRequests(metrics, T0 + 60_000, T0 + 10 * 60_000, 'recovery').counted).toBe(135);
  });

  it('extrapolates past the end of the series at the last measured rate, and says so', () => {
    const metrics = [{ id: 'elb5xx', label: 'ELB 5xx', query: query('HTTPCode_ELB_5XX_Count', {}), series: series(10), points: 20, current: 10 }];
    const f = failedRequests(metrics, T0, T0 + 30 * 60_000, 'recovery');
    expect(f).toMatchObject({ counted: 100, extrapolated: 200, estimate: 300, lastRatePerMinute: 10 });
    expect(f.method).toContain('plus 200 for the 20 minutes from then to recovery at the last measured rate (10 a minute)');
  });

  it('is null, with the reason, when there is nothing to add up', () => {
    expect(failedRequests(null, T0, T0 + 60_000, 'now').method).toBe('not estimated: no metrics step succeeded, so no 5xx count was kept');
    expect(failedRequests([{ id: 'cpu', query: { name: 'CPUUtilization', stat: 'Average', period: 60 } }], T0, T0 + 60_000, 'now')).toMatchObject({ estimate: null, method: expect.stringContaining('kept no load balancer 5xx count') });
    expect(failedRequests([{ id: 'elb5xx', query: query('HTTPCode_ELB_5XX_Count', {}) }], T0, T0 + 60_000, 'now')).toMatchObject({ estimate: null, method: expect.stringContaining('series were not kept') });
    expect(failedRequests([], undefined, T0, 'now').method).toBe('not estimated: the impact start is unknown');
  });
});

describe('the postmortem at the top of the RCA', () => {
  it('a draft with no owner says how to take it; a published one with its owner drops the draft banner', () => {
    const draft = renderRca(input({}));
    expect(draft.split('\n')[2]).toBe('**Postmortem**: draft; owner: — (none yet: `/incident postmortem inc_01JD3M4X9QZ0000000000 owner @someone`)');
    expect(draft).toContain('> **Draft — check before publishing.**');
    const published = input({ resolvedAt: 20, postmortem: { status: 'published', owner: 'U0ALICE01', updatedBy: 'U0BOB0001', updatedAt: at(120) } });
    const md = renderRca(published);
    expect(md.split('\n')[2]).toBe('**Postmortem**: published; owner: U0ALICE01 (last set by U0BOB0001 at 2024-11-22 12:00:00 UTC)');
    expect(md).not.toContain('Draft — check before publishing');
    expect(buildRca(published)).toMatchObject({ draft: false, postmortem: { status: 'published', label: 'published', owner: 'U0ALICE01' } });
  });

  it('tells a postmortem change on the timeline, by the person who made it', () => {
    const model = buildRca(input({ resolvedAt: 20, timeline: [entry(30, 'postmortem.updated', { by: 'alice', status: 'review', owner: 'alice', previousStatus: 'draft', source: 'api' })] }));
    expect(model.timeline.at(-1)).toMatchObject({ event: 'Postmortem in review, owner alice', actor: 'alice' });
    // Not a response to the incident: the first human response stays unset.
    expect(model.keyTimes.firstHumanResponse).toBeNull();
  });
});
