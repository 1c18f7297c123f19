import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateDBClusterCommand, CreateDBInstanceCommand, DescribeDBClustersCommand, RDSClient, StopDBInstanceCommand } from '@aws-sdk/client-rds';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { CloudWatchAdapter, RdsAdapter } from '@responder/aws';
import { type AuroraHealthOutput, auroraFailoverAction, auroraHealthAction } from '@responder/aws/actions';
import { uniqueName } from '../support/moto';

/**
 * Aurora actions against moto_server (5.2.1). moto keeps clusters, members, promotion tiers and
 * AZs, and FailoverDBCluster moves the writer (the cluster stays 'available'). DescribeEvents
 * answers with no events and GetMetricData with no data, so events, lag and in-progress failovers
 * are covered in libs/aws/src/actions/aurora-*.action.spec.ts. moto lets StopDBInstance stop an
 * Aurora member (AWS does not), which is how the writer goes down here.
 */
const MOTO_URL = process.env.MOTO_URL!;
const rdsClient = new RDSClient({ endpoint: MOTO_URL });

let failoverCalls = 0;
const adapterClient = new RDSClient({ endpoint: MOTO_URL });
adapterClient.middlewareStack.add(
  (next, context) => (args) => {
    if (context.commandName === 'FailoverDBClusterCommand') failoverCalls++;
    return next(args);
  },
  { step: 'initialize', name: 'countFailover' },
);
const rds = new RdsAdapter({ client: adapterClient });
const cloudwatch = new CloudWatchAdapter({ client: new CloudWatchClient({ endpoint: MOTO_URL }) });
const health = auroraHealthAction(rds, cloudwatch);
const failover = auroraFailoverAction(rds, cloudwatch);

afterAll(() => {
  rds.close();
  cloudwatch.close();
  rdsClient.destroy();
});

beforeEach(() => {
  failoverCalls = 0;
});

const ctx = (stepId: string): ActionContext => ({ incidentId: 'inc-1', runId: 'run-1', stepId, idempotencyKey: `run-1:${stepId}#1`, signal: new AbortController().signal, dryRun: false });

/** An aurora-postgresql cluster: writer `<c>-1` (tier 0), readers `<c>-2` (tier 2, AZ b) and `<c>-3` (tier 1, AZ c). */
async function auroraCluster(): Promise<string> {
  const cluster = uniqueName('orders');
  await rdsClient.send(new CreateDBClusterCommand({ DBClusterIdentifier: cluster, Engine: 'aurora-postgresql', MasterUsername: 'app', MasterUserPassword: 'not-a-secret-1' }));
  for (const [n, tier, az] of [[1, 0, 'a'], [2, 2, 'b'], [3, 1, 'c']] as const) {
    await rdsClient.send(
      new CreateDBInstanceCommand({ DBInstanceIdentifier: `${cluster}-${n}`, DBClusterIdentifier: cluster, Engine: 'aurora-postgresql', DBInstanceClass: 'db.r6g.large', PromotionTier: tier, AvailabilityZone: `us-east-1${az}` }),
    );
  }
  return cluster;
}

async function writerOf(cluster: string): Promise<string | undefined> {
  const out = await rdsClient.send(new DescribeDBClustersCommand({ DBClusterIdentifier: cluster }));
  return out.DBClusters![0].DBClusterMembers!.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier;
}

describe('aurora.health against moto_server', () => {
  it('reports the writer, the readers by promotion tier, and a healthy verdict', async () => {
    const cluster = await auroraCluster();
    const result = await health.run({ cluster }, ctx('aurora'));
    const o = result.output as AuroraHealthOutput;
    expect(o).toMatchObject({
      cluster,
      status: 'available',
      engine: 'aurora-postgresql',
      writer: { instanceId: `${cluster}-1`, status: 'available', availabilityZone: 'us-east-1a' },
      readers: [
        { instanceId: `${cluster}-3`, status: 'available', availabilityZone: 'us-east-1c', promotionTier: 1, replicaLagMs: null },
        { instanceId: `${cluster}-2`, status: 'available', availabilityZone: 'us-east-1b', promotionTier: 2, replicaLagMs: null },
      ],
      events: [],
      failoverInProgress: false,
      healthiestReader: `${cluster}-3`,
      verdict: 'healthy',
      reasons: [],
    });
    expect(result.summary).toBe(`Aurora ${cluster} healthy (available, writer ${cluster}-1 available, 2 of 2 readers available)`);
  });

  it('says writer-down when the writer is stopped', async () => {
    const cluster = await auroraCluster();
    await rdsClient.send(new StopDBInstanceCommand({ DBInstanceIdentifier: `${cluster}-1` }));
    const o = (await health.run({ cluster }, ctx('aurora'))).output as AuroraHealthOutput;
    expect(o).toMatchObject({ verdict: 'writer-down', reasons: [`the writer ${cluster}-1 is stopped`], healthiestReader: `${cluster}-3` });
  });

  it('fails for good, naming the cluster, when it does not exist', async () => {
    const error = await health.run({ cluster: 'no-such-cluster' }, ctx('aurora')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toMatch(/^Aurora cluster "no-such-cluster" not found/);
  });
});

describe('aurora.failover against moto_server', () => {
  it('refuses, without a call, while the writer is available', async () => {
    const cluster = await auroraCluster();
    const error = await failover.run({ cluster }, ctx('failover')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toBe(`aurora.failover: the writer ${cluster}-1 of Aurora cluster ${cluster} is available: failover refused`);
    expect(failoverCalls).toBe(0);
    expect(await writerOf(cluster)).toBe(`${cluster}-1`);
  });

  it('moves the writer to the healthiest reader when the writer is down, once however often it runs', async () => {
    const cluster = await auroraCluster();
    await rdsClient.send(new StopDBInstanceCommand({ DBInstanceIdentifier: `${cluster}-1` }));
    const result = await failover.run({ cluster }, ctx('failover'));
    expect(result.output).toMatchObject({ failedOver: true, from: `${cluster}-1`, fromStatus: 'stopped', to: `${cluster}-3`, chosenBy: 'healthiest reader' });
    expect(await writerOf(cluster)).toBe(`${cluster}-3`);
    expect(failoverCalls).toBe(1);

    // moto finishes the failover at once: the new writer is available, so a second run refuses.
    const again = await failover.run({ cluster }, ctx('failover')).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(PermanentActionError);
    expect(failoverCalls).toBe(1);
    expect(await writerOf(cluster)).toBe(`${cluster}-3`);
  });

  it('moves the writer to target_instance, and reconcile reports it without calling again', async () => {
    const cluster = await auroraCluster();
    await rdsClient.send(new StopDBInstanceCommand({ DBInstanceIdentifier: `${cluster}-1` }));
    await failover.run({ cluster, target_instance: `${cluster}-2` }, ctx('failover'));
    expect(await writerOf(cluster)).toBe(`${cluster}-2`);

    const reconciled = await failover.reconcile!({ cluster, target_instance: `${cluster}-2` }, ctx('failover'));
    expect(reconciled.output).toEqual({ reconciled: true, writer: `${cluster}-2`, writerStatus: 'available', clusterStatus: 'available', failoverInProgress: false, writerChanged: true });
    expect(failoverCalls).toBe(1);
  });
});
