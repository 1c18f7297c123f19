import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DBClusterNotFoundFault, DescribeDBClustersCommand, DescribeDBInstancesCommand, DescribeEventsCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { CloudWatchAdapter } from '../cloudwatch.adapter';
import { RdsAdapter } from '../rds.adapter';
import {
  type AuroraHealthOutput,
  type AuroraMemberHealth,
  auroraHealthAction,
  auroraVerdict,
  failoverEventKind,
  healthiestReader,
  isFailoverInProgress,
} from './aurora-health.action';

const CLUSTER = 'orders-db';

const ctx = (): ActionContext => ({ incidentId: 'inc-1', runId: 'run-1', stepId: 'aurora', idempotencyKey: 'run-1:aurora', signal: new AbortController().signal, dryRun: false });

interface FakeInstance {
  id: string;
  writer: boolean;
  status: string;
  tier: number;
  az: string;
}

/** An RDS mock for one cluster (status and instances as given) and a CloudWatch mock answering `metrics` (label → values). */
function auroraMocks(opts: { status?: string; instances: FakeInstance[]; events?: Array<{ at: string; message: string }>; metrics?: Record<string, number[]> }) {
  const rdsClient = new RDSClient({ region: 'us-east-1' });
  const cwClient = new CloudWatchClient({ region: 'us-east-1' });
  const rds = mockClient(rdsClient);
  const cw = mockClient(cwClient);
  rds.on(DescribeDBClustersCommand).callsFake(() => ({
    DBClusters: [
      {
        DBClusterIdentifier: CLUSTER,
        DBClusterArn: `arn:aws:rds:us-east-1:123456789012:cluster:${CLUSTER}`,
        Status: opts.status ?? 'available',
        Engine: 'aurora-postgresql',
        DBClusterMembers: opts.instances.map((i) => ({ DBInstanceIdentifier: i.id, IsClusterWriter: i.writer, PromotionTier: i.tier })),
      },
    ],
  }));
  rds.on(DescribeDBInstancesCommand).callsFake(() => ({
    DBInstances: opts.instances.map((i) => ({ DBInstanceIdentifier: i.id, DBInstanceStatus: i.status, AvailabilityZone: i.az, PromotionTier: i.tier, DBInstanceClass: 'db.r6g.large' })),
  }));
  rds.on(DescribeEventsCommand).resolves({
    Events: (opts.events ?? []).map((e) => ({ SourceIdentifier: CLUSTER, SourceType: 'db-cluster', Message: e.message, EventCategories: ['failover'], Date: new Date(e.at) })),
  });
  cw.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: MetricDataQuery[]; StartTime: Date }) => ({
    MetricDataResults: input.MetricDataQueries.map((q) => {
      const values = opts.metrics?.[q.Label!] ?? [];
      return { Id: q.Id, Label: q.Label, StatusCode: 'Complete', Values: values, Timestamps: values.map((_, k) => new Date(input.StartTime.getTime() + k * 60_000)) };
    }),
  }));
  return { rds, cw, rdsAdapter: new RdsAdapter({ client: rdsClient }), cloudwatch: new CloudWatchAdapter({ client: cwClient }) };
}

const THREE: FakeInstance[] = [
  { id: 'orders-1', writer: true, status: 'available', tier: 0, az: 'us-east-1a' },
  { id: 'orders-2', writer: false, status: 'available', tier: 1, az: 'us-east-1b' },
  { id: 'orders-3', writer: false, status: 'available', tier: 1, az: 'us-east-1c' },
];

const member = (m: Partial<AuroraMemberHealth> & { instanceId: string }): AuroraMemberHealth => ({
  role: 'reader',
  status: 'available',
  availabilityZone: null,
  promotionTier: 1,
  instanceClass: null,
  connections: null,
  replicaLagMs: null,
  ...m,
});

describe('aurora health, pure parts', () => {
  it.each([
    ['Started cross AZ failover to DB instance: orders-2', 'started'],
    ['A failover for the DB cluster has begun within the same Availability Zone.', 'started'],
    ['Completed failover to DB instance: orders-2', 'completed'],
    ['A failover for the DB cluster has finished.', 'completed'],
    ['DB cluster created', 'other'],
  ])('reads %p as %p', (message, kind) => {
    expect(failoverEventKind(message)).toBe(kind);
  });

  it('sees a failover under way when it started and did not complete, or the cluster is failing-over', () => {
    const started = { at: '2025-01-01T10:00:00.000Z', message: 'Started cross AZ failover to DB instance: b', categories: ['failover'], sourceId: 'c' };
    const completed = { at: '2025-01-01T10:01:00.000Z', message: 'Completed failover to DB instance: b', categories: ['failover'], sourceId: 'c' };
    expect(isFailoverInProgress('available', [started])).toBe(true);
    expect(isFailoverInProgress('available', [completed, started])).toBe(false);
    expect(isFailoverInProgress('failing-over', [])).toBe(true);
    expect(isFailoverInProgress('available', [])).toBe(false);
  });

  it('picks the available reader with the best promotion tier, then the lowest lag', () => {
    expect(
      healthiestReader([
        member({ instanceId: 'w', role: 'writer', promotionTier: 0 }),
        member({ instanceId: 'a', promotionTier: 0, status: 'rebooting' }),
        member({ instanceId: 'b', promotionTier: 1, replicaLagMs: 40 }),
        member({ instanceId: 'c', promotionTier: 1, replicaLagMs: 12 }),
        member({ instanceId: 'd', promotionTier: 2, replicaLagMs: 1 }),
      ]),
    ).toBe('c');
    expect(healthiestReader([member({ instanceId: 'w', role: 'writer' })])).toBeNull();
  });

  it('says writer-down, degraded or healthy, with the reasons', () => {
    const writer = member({ instanceId: 'w', role: 'writer', promotionTier: 0 });
    expect(auroraVerdict({ status: 'available' }, [writer, member({ instanceId: 'r' })], false)).toEqual({ verdict: 'healthy', reasons: [] });
    expect(auroraVerdict({ status: 'available' }, [{ ...writer, status: 'failed' }, member({ instanceId: 'r' })], false)).toEqual({ verdict: 'writer-down', reasons: ['the writer w is failed'] });
    expect(auroraVerdict({ status: 'available' }, [member({ instanceId: 'r' })], false).verdict).toBe('writer-down');
    expect(auroraVerdict({ status: 'available' }, [writer, member({ instanceId: 'r', replicaLagMs: 2500 })], false)).toEqual({ verdict: 'degraded', reasons: ['the reader r lags 2500 ms behind the writer'] });
    expect(auroraVerdict({ status: 'failing-over' }, [writer, member({ instanceId: 'r', status: 'rebooting' })], true)).toEqual({
      verdict: 'degraded',
      reasons: ['the cluster is failing-over', 'the reader r is rebooting'],
    });
  });
});

describe('aurora.health', () => {
  it('reports writer, readers, events, connections and replica lag, and a healthy verdict', async () => {
    const { rds, cw, rdsAdapter, cloudwatch } = auroraMocks({
      instances: THREE,
      events: [
        { at: '2025-01-01T09:40:00Z', message: 'Started cross AZ failover to DB instance: orders-1' },
        { at: '2025-01-01T09:41:00Z', message: 'Completed failover to DB instance: orders-1' },
      ],
      metrics: {
        'orders-1 DatabaseConnections': [120, 180, 150],
        'orders-2 DatabaseConnections': [20, 25],
        'orders-2 AuroraReplicaLag': [18, 35, 20],
        'orders-3 AuroraReplicaLag': [9, 12],
      },
    });
    const result = await auroraHealthAction(rdsAdapter, cloudwatch).run({ cluster: CLUSTER, since: '2025-01-01T10:00:00Z' }, ctx());
    const o = result.output as AuroraHealthOutput;
    expect(o.link).toBe(`https://us-east-1.console.aws.amazon.com/rds/home?region=us-east-1#database:id=${CLUSTER};is-cluster=true`);
    expect(o).toMatchObject({
      cluster: CLUSTER,
      status: 'available',
      engine: 'aurora-postgresql',
      writer: { instanceId: 'orders-1', status: 'available', availabilityZone: 'us-east-1a' },
      readers: [
        { instanceId: 'orders-2', status: 'available', availabilityZone: 'us-east-1b', promotionTier: 1, replicaLagMs: 35 },
        { instanceId: 'orders-3', status: 'available', availabilityZone: 'us-east-1c', promotionTier: 1, replicaLagMs: 12 },
      ],
      failoverInProgress: false,
      healthiestReader: 'orders-3',
      verdict: 'healthy',
      reasons: [],
    });
    expect(o.members.map((m) => [m.instanceId, m.role, m.connections])).toEqual([
      ['orders-1', 'writer', 180],
      ['orders-2', 'reader', 25],
      ['orders-3', 'reader', null],
    ]);
    expect(o.events).toHaveLength(2);
    expect(result.summary).toBe('Aurora orders-db healthy (available, writer orders-1 available, 2 of 2 readers available)');

    const events = rds.commandCalls(DescribeEventsCommand)[0].args[0].input;
    expect(events).toMatchObject({ SourceType: 'db-cluster', SourceIdentifier: CLUSTER, EventCategories: ['failover'], StartTime: new Date('2025-01-01T09:30:00Z') });
    expect(rds.commandCalls(DescribeDBInstancesCommand)[0].args[0].input).toMatchObject({ Filters: [{ Name: 'db-cluster-id', Values: [CLUSTER] }] });
    const metrics = cw.commandCalls(GetMetricDataCommand)[0].args[0].input;
    // The writer publishes no AuroraReplicaLag: not asked for.
    expect(metrics.MetricDataQueries!.map((q) => q.Label)).toEqual([
      'orders-1 DatabaseConnections',
      'orders-2 DatabaseConnections',
      'orders-2 AuroraReplicaLag',
      'orders-3 DatabaseConnections',
      'orders-3 AuroraReplicaLag',
    ]);
    expect(metrics.MetricDataQueries![0].MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/RDS', MetricName: 'DatabaseConnections', Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'orders-1' }] }, Stat: 'Maximum', Period: 60 });
    expect(metrics.EndTime!.getTime() - metrics.StartTime!.getTime()).toBe(10 * 60_000);
  });

  it('says writer-down when the writer is not available, and a failover started without completing is under way', async () => {
    const { rdsAdapter, cloudwatch } = auroraMocks({
      instances: [{ ...THREE[0], status: 'failed' }, THREE[1], { ...THREE[2], status: 'rebooting' }],
      events: [{ at: new Date().toISOString(), message: 'Started cross AZ failover to DB instance: orders-2' }],
    });
    const o = (await auroraHealthAction(rdsAdapter, cloudwatch).run({ cluster: CLUSTER }, ctx())).output as AuroraHealthOutput;
    expect(o).toMatchObject({ verdict: 'writer-down', failoverInProgress: true, healthiestReader: 'orders-2' });
    expect(o.reasons).toEqual(['the writer orders-1 is failed', 'a failover is under way', 'the reader orders-3 is rebooting']);
  });

  it('fails for good, naming the cluster, when it does not exist', async () => {
    const { rds, rdsAdapter, cloudwatch } = auroraMocks({ instances: THREE });
    rds.on(DescribeDBClustersCommand).rejects(new DBClusterNotFoundFault({ message: 'DBCluster nope not found.', $metadata: { httpStatusCode: 404 } }));
    const error = await auroraHealthAction(rdsAdapter, cloudwatch).run({ cluster: 'nope' }, ctx()).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toBe('Aurora cluster "nope" not found (DBClusterNotFoundFault: DBCluster nope not found.)');
  });

  it('fails for good, naming rds:DescribeEvents, when access to it is denied', async () => {
    const { rds, rdsAdapter, cloudwatch } = auroraMocks({ instances: THREE });
    rds.on(DescribeEventsCommand).rejects(Object.assign(new Error('not authorized to perform: rds:DescribeEvents'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } }));
    const error = await auroraHealthAction(rdsAdapter, cloudwatch).run({ cluster: CLUSTER }, ctx()).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toMatch(/^access denied: the role Responder runs as needs rds:DescribeEvents on Aurora cluster orders-db/);
  });

  it('throttling that outlasts the SDK retries is a plain error, for the step to retry', async () => {
    const { rds, rdsAdapter, cloudwatch } = auroraMocks({ instances: THREE });
    rds.on(DescribeDBClustersCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 5 } }));
    const error = await auroraHealthAction(rdsAdapter, cloudwatch).run({ cluster: CLUSTER }, ctx()).catch((e: unknown) => e as Error);
    expect(error).not.toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toBe('rds:DescribeDBClusters on Aurora cluster orders-db failed after 5 attempts: Throttling: Rate exceeded');
  });

  it.each([[{}], [{ cluster: '' }], [{ cluster: CLUSTER, since: 'yesterday' }]])('refuses bad parameters: %p', (params) => {
    const { rdsAdapter, cloudwatch } = auroraMocks({ instances: THREE });
    expect(() => auroraHealthAction(rdsAdapter, cloudwatch).plan(params)).toThrow(PermanentActionError);
  });
});
