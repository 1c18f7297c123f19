import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, DescribeEventsCommand, FailoverDBClusterCommand, InvalidDBClusterStateFault, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { CloudWatchAdapter } from '../cloudwatch.adapter';
import { NotAppliedError } from '../errors';
import { RdsAdapter } from '../rds.adapter';
import { auroraFailoverAction } from './aurora-failover.action';

const CLUSTER = 'orders-db';

const ctx = (): ActionContext => ({ incidentId: 'inc-1', runId: 'run-1', stepId: 'failover', idempotencyKey: 'run-1:failover#1', signal: new AbortController().signal, dryRun: false });

interface Instance {
  id: string;
  status: string;
  tier: number;
}

/**
 * A cluster whose FailoverDBCluster really moves the writer (and the old writer comes back as a
 * reader), with replica lag per reader from `lag`.
 */
function setup(opts: { writer: string; instances: Instance[]; status?: string; events?: Array<{ at: string; message: string }>; lag?: Record<string, number> }) {
  const rdsClient = new RDSClient({ region: 'us-east-1' });
  const cwClient = new CloudWatchClient({ region: 'us-east-1' });
  const rds = mockClient(rdsClient);
  const cw = mockClient(cwClient);
  const state = { writer: opts.writer, status: opts.status ?? 'available' };
  rds.on(DescribeDBClustersCommand).callsFake(() => ({
    DBClusters: [
      {
        DBClusterIdentifier: CLUSTER,
        Status: state.status,
        Engine: 'aurora-postgresql',
        DBClusterMembers: opts.instances.map((i) => ({ DBInstanceIdentifier: i.id, IsClusterWriter: i.id === state.writer, PromotionTier: i.tier })),
      },
    ],
  }));
  rds.on(DescribeDBInstancesCommand).callsFake(() => ({
    DBInstances: opts.instances.map((i) => ({ DBInstanceIdentifier: i.id, DBInstanceStatus: i.status, AvailabilityZone: 'us-east-1a', PromotionTier: i.tier })),
  }));
  rds.on(DescribeEventsCommand).resolves({ Events: (opts.events ?? []).map((e) => ({ SourceIdentifier: CLUSTER, Message: e.message, EventCategories: ['failover'], Date: new Date(e.at) })) });
  rds.on(FailoverDBClusterCommand).callsFake((input: { TargetDBInstanceIdentifier: string }) => {
    state.writer = input.TargetDBInstanceIdentifier;
    state.status = 'failing-over';
    return { DBCluster: { DBClusterIdentifier: CLUSTER, Status: 'failing-over' }, $metadata: { requestId: 'req-failover' } };
  });
  cw.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: MetricDataQuery[]; StartTime: Date }) => ({
    MetricDataResults: input.MetricDataQueries.map((q) => {
      const instance = q.MetricStat!.Metric!.Dimensions![0].Value!;
      const values = q.MetricStat!.Metric!.MetricName === 'AuroraReplicaLag' && opts.lag?.[instance] !== undefined ? [opts.lag[instance]] : [];
      return { Id: q.Id, StatusCode: 'Complete', Values: values, Timestamps: values.map(() => input.StartTime) };
    }),
  }));
  const action = auroraFailoverAction(new RdsAdapter({ client: rdsClient }), new CloudWatchAdapter({ client: cwClient }));
  return { rds, state, action };
}

const DOWN = {
  writer: 'orders-1',
  instances: [
    { id: 'orders-1', status: 'failed', tier: 0 },
    { id: 'orders-2', status: 'available', tier: 1 },
    { id: 'orders-3', status: 'available', tier: 1 },
    { id: 'orders-4', status: 'available', tier: 2 },
  ],
  lag: { 'orders-2': 80, 'orders-3': 15, 'orders-4': 1 },
};

const failure = (p: Promise<unknown>) => p.then(() => new Error('resolved'), (e: unknown) => e as Error);

describe('aurora.failover', () => {
  it('plans without calling AWS, locking rds:<cluster>', () => {
    const { rds, action } = setup(DOWN);
    expect(action.plan({ cluster: CLUSTER })).toEqual({
      summary: 'FailoverDBCluster orders-db → the healthiest reader, only if the writer is down and no failover is under way',
      resource: 'rds:orders-db',
    });
    expect(action.plan({ cluster: CLUSTER, target_instance: 'orders-4' }).summary).toMatch(/^FailoverDBCluster orders-db → orders-4,/);
    expect(rds.calls()).toHaveLength(0);
    expect(() => action.plan({ cluster: CLUSTER, target_instance: 7 })).toThrow(PermanentActionError);
  });

  it('fails over to the healthiest reader (best tier, then lowest lag) when the writer is down', async () => {
    const { rds, state, action } = setup(DOWN);
    const result = await action.run({ cluster: CLUSTER }, ctx());
    expect(result.output).toEqual({ failedOver: true, from: 'orders-1', fromStatus: 'failed', to: 'orders-3', chosenBy: 'healthiest reader', clusterStatus: 'failing-over', requestId: 'req-failover' });
    expect(result.summary).toBe('Aurora orders-db: failover started from orders-1 (failed) to orders-3');
    expect(rds.commandCalls(FailoverDBClusterCommand).map((c) => c.args[0].input)).toEqual([{ DBClusterIdentifier: CLUSTER, TargetDBInstanceIdentifier: 'orders-3' }]);
    expect(state.writer).toBe('orders-3');
  });

  it('fails over to target_instance when given', async () => {
    const { state, action } = setup(DOWN);
    const result = await action.run({ cluster: CLUSTER, target_instance: 'orders-4' }, ctx());
    expect(result.output).toMatchObject({ to: 'orders-4', chosenBy: 'target_instance' });
    expect(state.writer).toBe('orders-4');
  });

  it('refuses, for good and without a call, when the writer is available', async () => {
    const { rds, action } = setup({ ...DOWN, instances: DOWN.instances.map((i) => ({ ...i, status: 'available' })) });
    const error = await failure(action.run({ cluster: CLUSTER }, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toBe('aurora.failover: the writer orders-1 of Aurora cluster orders-db is available: failover refused');
    expect(rds.commandCalls(FailoverDBClusterCommand)).toHaveLength(0);
  });

  it('is a skip, not a call, when the cluster is failing over', async () => {
    const { rds, action } = setup({ ...DOWN, status: 'failing-over' });
    const result = await action.run({ cluster: CLUSTER }, ctx());
    expect(result.output).toEqual({ skipped: true, reason: 'a failover is already under way', clusterStatus: 'failing-over', writer: 'orders-1' });
    expect(rds.commandCalls(FailoverDBClusterCommand)).toHaveLength(0);
  });

  it('is a skip when a failover event started and none completed', async () => {
    const { rds, action } = setup({ ...DOWN, events: [{ at: new Date().toISOString(), message: 'Started cross AZ failover to DB instance: orders-2' }] });
    expect((await action.run({ cluster: CLUSTER }, ctx())).output).toMatchObject({ skipped: true });
    expect(rds.commandCalls(FailoverDBClusterCommand)).toHaveLength(0);
  });

  it('is safe to run twice: the second run finds the failover under way and makes no call', async () => {
    const { rds, action } = setup(DOWN);
    expect((await action.run({ cluster: CLUSTER }, ctx())).output).toMatchObject({ failedOver: true });
    expect((await action.run({ cluster: CLUSTER }, ctx())).output).toMatchObject({ skipped: true, writer: 'orders-3' });
    expect(rds.commandCalls(FailoverDBClusterCommand)).toHaveLength(1);
  });

  it.each([
    [{ cluster: CLUSTER, target_instance: 'orders-9' }, 'aurora.failover: "orders-9" is not a reader of Aurora cluster orders-db (readers: orders-2, orders-3, orders-4)'],
    [{ cluster: CLUSTER, target_instance: 'orders-1' }, 'aurora.failover: "orders-1" is not a reader of Aurora cluster orders-db (readers: orders-2, orders-3, orders-4)'],
  ])('refuses a target that is not a reader: %p', async (params, message) => {
    const { rds, action } = setup(DOWN);
    const error = await failure(action.run(params, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toBe(message);
    expect(rds.commandCalls(FailoverDBClusterCommand)).toHaveLength(0);
  });

  it('refuses when no reader is available', async () => {
    const { rds, action } = setup({ writer: 'orders-1', instances: [{ id: 'orders-1', status: 'failed', tier: 0 }, { id: 'orders-2', status: 'rebooting', tier: 1 }] });
    const error = await failure(action.run({ cluster: CLUSTER }, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toBe('aurora.failover: Aurora cluster orders-db has no available reader to fail over to');
    expect(rds.commandCalls(FailoverDBClusterCommand)).toHaveLength(0);
  });

  it('a refused FailoverDBCluster (invalid cluster state) fails for good', async () => {
    const { rds, action } = setup(DOWN);
    rds.on(FailoverDBClusterCommand).rejects(new InvalidDBClusterStateFault({ message: 'cluster is not available', $metadata: { httpStatusCode: 400 } }));
    const error = await failure(action.run({ cluster: CLUSTER }, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toBe('rds:FailoverDBCluster on Aurora cluster orders-db was refused: InvalidDBClusterStateFault: cluster is not available');
  });

  it('a throttled FailoverDBCluster did not happen: notApplied, so the retry may call again', async () => {
    const { rds, action } = setup(DOWN);
    rds.on(FailoverDBClusterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 5 } }));
    const error = await failure(action.run({ cluster: CLUSTER }, ctx()));
    expect(error).toBeInstanceOf(NotAppliedError);
  });

  it('a 5xx may have started the failover: a plain error, so the retry reconciles', async () => {
    const { rds, action } = setup(DOWN);
    rds.on(FailoverDBClusterCommand).rejects(Object.assign(new Error('internal'), { name: 'InternalFailure', $fault: 'server', $metadata: { httpStatusCode: 500, attempts: 5 } }));
    const error = await failure(action.run({ cluster: CLUSTER }, ctx()));
    expect(error).not.toBeInstanceOf(PermanentActionError);
    expect((error as { notApplied?: boolean }).notApplied).toBeUndefined();
  });

  it('reconcile reports the current writer and never calls FailoverDBCluster', async () => {
    const { rds, state, action } = setup(DOWN);
    state.writer = 'orders-4';
    state.status = 'available';
    const result = await action.reconcile!({ cluster: CLUSTER, target_instance: 'orders-4' }, ctx());
    expect(result.output).toEqual({ reconciled: true, writer: 'orders-4', writerStatus: 'available', clusterStatus: 'available', failoverInProgress: false, writerChanged: true });
    expect(result.summary).toBe('Aurora orders-db: an earlier attempt was interrupted; the writer is now orders-4 (available), a failover took place (not failed over again)');
    expect(rds.commandCalls(FailoverDBClusterCommand)).toHaveLength(0);
  });

  it('reconcile without a target: unknown whether the writer changed when no failover shows', async () => {
    const { action } = setup(DOWN);
    const result = await action.reconcile!({ cluster: CLUSTER }, ctx());
    expect(result.output).toMatchObject({ writer: 'orders-1', writerStatus: 'failed', writerChanged: null });
  });
});
