import { type Action, type ActionContext, type ActionPlan, type ActionResult, PermanentActionError, type PlanCheck, type PrecheckContext } from '@responder/domain';
import type { CloudWatchAdapter } from '../cloudwatch.adapter';
import type { RdsAdapter } from '../rds.adapter';
import { failoverHolds } from './plan-checks';
import { EVENTS_LOOKBACK_MS, auroraClusterParam, isFailoverInProgress, readAuroraHealth } from './aurora-health.action';

export const AURORA_FAILOVER_ID = 'aurora.failover';

export interface AuroraFailoverParams {
  cluster: string;
  /** A reader of the cluster; default the healthiest reader. */
  targetInstance: string | null;
}

export function auroraFailoverParams(params: Record<string, unknown>): AuroraFailoverParams {
  const cluster = auroraClusterParam(AURORA_FAILOVER_ID, params);
  const target = params.target_instance;
  if (target === undefined || target === null || target === '') return { cluster, targetInstance: null };
  if (typeof target !== 'string' || target.trim() === '') {
    throw new PermanentActionError(`${AURORA_FAILOVER_ID}: "target_instance" must be a DB instance identifier, got ${JSON.stringify(target)}`);
  }
  return { cluster, targetInstance: target.trim() };
}

/**
 * Mitigation (issue 4, action 8), MUTATING: FailoverDBCluster to `target_instance` or the
 * healthiest reader, only when the writer is down and no failover is already under way. Failing
 * over a cluster whose writer is available drops every connection for nothing, so that is refused
 * for good; a failover already under way (RDS's own, or an earlier attempt's) is a skip.
 * Who must approve (two people) is the runbook's business, not this action's.
 */
export function auroraFailoverAction(rds: RdsAdapter, cloudwatch: CloudWatchAdapter): Action {
  return {
    id: AURORA_FAILOVER_ID,
    mutating: true,
    announcesCall: true,
    description: 'Fail an Aurora cluster over to a reader (target_instance, or the healthiest), only when the writer is down and no failover is under way (with: { cluster, target_instance? }).',
    iam: ['rds:DescribeDBClusters', 'rds:DescribeDBInstances', 'rds:DescribeEvents', 'cloudwatch:GetMetricData', 'rds:FailoverDBCluster'],

    plan(params: Record<string, unknown>): ActionPlan {
      const p = auroraFailoverParams(params);
      return {
        summary: `FailoverDBCluster ${p.cluster} → ${p.targetInstance ?? 'the healthiest reader'}, only if the writer is down and no failover is under way`,
        resource: `rds:${p.cluster}`,
      };
    },

    /** The plan holds while the writer is still down. */
    async precheck(params: Record<string, unknown>, ctx: PrecheckContext): Promise<PlanCheck> {
      const p = auroraFailoverParams(params);
      return failoverHolds(p.cluster, await readAuroraHealth(rds, cloudwatch, { cluster: p.cluster, since: null }, ctx.signal));
    },

    async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const p = auroraFailoverParams(params);
      const health = await readAuroraHealth(rds, cloudwatch, { cluster: p.cluster, since: null }, ctx.signal);
      const writer = health.writer;
      if (health.failoverInProgress) {
        const reason = 'a failover is already under way';
        return { output: { skipped: true, reason, clusterStatus: health.status, writer: writer?.instanceId ?? null }, summary: `Aurora ${p.cluster}: ${reason}, not failed over again` };
      }
      if (writer && writer.status === 'available') {
        throw new PermanentActionError(`${AURORA_FAILOVER_ID}: the writer ${writer.instanceId} of Aurora cluster ${p.cluster} is available: failover refused`);
      }
      let target = health.healthiestReader;
      if (p.targetInstance) {
        const reader = health.readers.find((r) => r.instanceId === p.targetInstance);
        if (!reader) throw new PermanentActionError(`${AURORA_FAILOVER_ID}: "${p.targetInstance}" is not a reader of Aurora cluster ${p.cluster} (readers: ${health.readers.map((r) => r.instanceId).join(', ') || 'none'})`);
        if (reader.status !== 'available') throw new PermanentActionError(`${AURORA_FAILOVER_ID}: the target ${p.targetInstance} is ${reader.status}, not available`);
        target = p.targetInstance;
      }
      if (!target) throw new PermanentActionError(`${AURORA_FAILOVER_ID}: Aurora cluster ${p.cluster} has no available reader to fail over to`);

      await ctx.calling?.();
      const { status, requestId } = await rds.failover(p.cluster, target, { abortSignal: ctx.signal });
      const from = writer ? `${writer.instanceId} (${writer.status})` : 'no writer';
      return {
        output: {
          failedOver: true,
          from: writer?.instanceId ?? null,
          fromStatus: writer?.status ?? null,
          to: target,
          chosenBy: p.targetInstance ? 'target_instance' : 'healthiest reader',
          clusterStatus: status,
          requestId,
        },
        summary: `Aurora ${p.cluster}: failover started from ${from} to ${target}`,
      };
    },

    /**
     * After an attempt interrupted between FailoverDBCluster and its record: reads the cluster and
     * reports who writes now; never calls again (a second failover would move the writer twice).
     * `writerChanged`: with a target, whether it writes now; without one, true when a failover shows
     * (status or events), else null (unknown: the old writer is not recorded).
     */
    async reconcile(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const p = auroraFailoverParams(params);
      const [cluster, events] = await Promise.all([
        rds.describeCluster(p.cluster, { abortSignal: ctx.signal }),
        rds.failoverEvents(p.cluster, new Date(Date.now() - EVENTS_LOOKBACK_MS), { abortSignal: ctx.signal }),
      ]);
      const writer = cluster.members.find((m) => m.role === 'writer') ?? null;
      const inProgress = isFailoverInProgress(cluster.status, events);
      const seen = inProgress || events.length > 0;
      const writerChanged = p.targetInstance ? writer?.instanceId === p.targetInstance : seen ? true : null;
      const changed = writerChanged === true ? 'a failover took place' : writerChanged === false ? `the target ${p.targetInstance} is not the writer` : 'no failover seen';
      return {
        output: { reconciled: true, writer: writer?.instanceId ?? null, writerStatus: writer?.status ?? null, clusterStatus: cluster.status, failoverInProgress: inProgress, writerChanged },
        summary: `Aurora ${p.cluster}: an earlier attempt was interrupted; the writer is now ${writer ? `${writer.instanceId} (${writer.status})` : 'none'}, ${changed}${inProgress ? ', still under way' : ''} (not failed over again)`,
      };
    },
  };
}
