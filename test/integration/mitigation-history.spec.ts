import { MITIGATION_HISTORY_MS, MitigationHistory } from '@responder/store';
import { testRedis } from '../support/redis';

const { redis, prefix, cleanup } = testRedis('mitigations');
afterAll(cleanup);

describe('MitigationHistory (real Redis)', () => {
  const history = new MitigationHistory(redis, prefix);
  const now = Date.parse('2026-01-02T10:00:00Z');
  const h = 3600_000;

  it('keeps the successes of a day per service and action, once per step however often it is recorded', async () => {
    await history.record('web', 'deploy.rollback', { at: now - 2 * h, incidentId: 'inc_1', runId: 'run_1', stepId: 'rollback' });
    await history.record('web', 'deploy.rollback', { at: now - h, incidentId: 'inc_1', runId: 'run_1', stepId: 'rollback' }); // the job run again
    await history.record('web', 'deploy.rollback', { at: now - h, incidentId: 'inc_2', runId: 'run_2', stepId: 'rollback' });
    await history.record('web', 'ecs.scale-up', { at: now - h, incidentId: 'inc_2', runId: 'run_2', stepId: 'scale-up' });
    await history.record('api', 'deploy.rollback', { at: now - h, incidentId: 'inc_3', runId: 'run_3', stepId: 'rollback' });
    expect(await history.recent('web', 'deploy.rollback', now)).toEqual([
      { at: now - 2 * h, incidentId: 'inc_1', runId: 'run_1', stepId: 'rollback' },
      { at: now - h, incidentId: 'inc_2', runId: 'run_2', stepId: 'rollback' },
    ]);
    expect(await history.recent('web', 'ecs.scale-up', now)).toHaveLength(1);
    expect(await history.recent('web', 'aurora.failover', now)).toEqual([]);
  });

  it('forgets what is older than a day, and the key expires on its own', async () => {
    await history.record('old', 'deploy.rollback', { at: now - MITIGATION_HISTORY_MS - h, incidentId: 'inc_9', runId: 'run_9', stepId: 'rollback' });
    await history.record('old', 'deploy.rollback', { at: now, incidentId: 'inc_10', runId: 'run_10', stepId: 'rollback' });
    expect((await history.recent('old', 'deploy.rollback', now)).map((e) => e.incidentId)).toEqual(['inc_10']);
    expect(await redis.zcard(`${prefix}:mitigations:old:deploy.rollback`)).toBe(1);
    expect(await redis.pttl(`${prefix}:mitigations:old:deploy.rollback`)).toBeGreaterThan(MITIGATION_HISTORY_MS);
  });
});
