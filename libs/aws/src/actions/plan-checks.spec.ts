import { codeDeployRollbackHolds, ecsRollbackHolds, failoverHolds, scaleUpHolds } from './plan-checks';

const TD = (rev: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/ledger:${rev}`;
const plan = { cluster: 'prod', service: 'ledger', fromTaskDefinition: TD(2), toTaskDefinition: TD(1) };

describe('plan checks', () => {
  describe('an ECS rollback', () => {
    it('holds while the service still runs the plan’s from', () => {
      expect(ecsRollbackHolds(plan, { taskDefinition: TD(2) })).toEqual({ holds: true, checked: `prod/ledger still runs ${TD(2)}` });
    });
    it('does not hold once another revision was deployed, naming it', () => {
      expect(ecsRollbackHolds(plan, { taskDefinition: TD(3) })).toEqual({
        holds: false,
        reason: `prod/ledger now runs ${TD(3)}, not the plan's ${TD(2)} (deployed since the plan was made)`,
      });
    });
    it('holds when the service is already on to (the action reports a skip)', () => {
      expect(ecsRollbackHolds(plan, { taskDefinition: TD(1) }).holds).toBe(true);
    });
  });

  it('a CodeDeploy rollback holds while from is the newest deployment, not after another one', () => {
    const p = { application: 'app', group: 'grp', fromDeployment: 'd-2' };
    expect(codeDeployRollbackHolds(p, [{ id: 'd-2', rollbackOf: null }, { id: 'd-1', rollbackOf: null }]).holds).toBe(true);
    expect(codeDeployRollbackHolds(p, [{ id: 'd-9', rollbackOf: 'd-2' }]).holds).toBe(true);
    expect(codeDeployRollbackHolds(p, [{ id: 'd-3', rollbackOf: null }, { id: 'd-2', rollbackOf: null }])).toEqual({
      holds: false,
      reason: "the newest deployment of app/grp is now d-3, not the plan's d-2 (deployed since the plan was made)",
    });
  });

  it('a scale-up holds while the desired count is the plan’s base', () => {
    const p = { cluster: 'prod', service: 'ledger', from: 4 };
    expect(scaleUpHolds(p, { desiredCount: 4 }).holds).toBe(true);
    expect(scaleUpHolds(p, { desiredCount: 6 })).toEqual({ holds: false, reason: "prod/ledger now wants 6 tasks, not the plan's 4" });
    expect(scaleUpHolds({ ...p, from: null }, { desiredCount: 6 }).holds).toBe(true);
  });

  it('a failover holds while the writer is down, not once it is available again', () => {
    expect(failoverHolds('db', { writer: { instanceId: 'db-1', status: 'stopped' }, failoverInProgress: false }).holds).toBe(true);
    expect(failoverHolds('db', { writer: { instanceId: 'db-1', status: 'available' }, failoverInProgress: false })).toEqual({ holds: false, reason: 'the writer db-1 of db is available again' });
    expect(failoverHolds('db', { writer: { instanceId: 'db-1', status: 'available' }, failoverInProgress: true }).holds).toBe(true);
  });
});
