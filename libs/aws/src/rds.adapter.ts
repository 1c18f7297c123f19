import { DescribeDBClustersCommand, DescribeDBInstancesCommand, DescribeEventsCommand, FailoverDBClusterCommand, RDSClient, SourceType } from '@aws-sdk/client-rds';
import { recordAttempts, toActionError } from './errors';
import { clientRegion } from './region';

/** Attempts per call, the first included (the SDK's retry of throttling, 5xx and network errors). */
export const RDS_MAX_ATTEMPTS = 5;

/** Pages read at most (DescribeDBInstances / DescribeEvents, 100 a page). */
const MAX_PAGES = 10;

/** One instance of an Aurora cluster, as its membership and DescribeDBInstances tell it. */
export interface AuroraMember {
  instanceId: string;
  role: 'writer' | 'reader';
  /** available, rebooting, failed, stopped, modifying, …; 'unknown' when DescribeDBInstances did not list it. */
  status: string;
  availabilityZone: string | null;
  /** 0 (promoted first) to 15. */
  promotionTier: number | null;
  instanceClass: string | null;
}

export interface AuroraCluster {
  cluster: string;
  arn: string | null;
  /** available, failing-over, backing-up, modifying, stopped, … */
  status: string;
  engine: string | null;
  members: AuroraMember[];
}

export interface RdsEvent {
  /** ISO time. */
  at: string | null;
  message: string;
  categories: string[];
  sourceId: string | null;
}

export interface RdsCallOptions {
  abortSignal?: AbortSignal;
}

export interface RdsAdapterOptions {
  /** Default: the SDK's chain (AWS_REGION, profile). */
  region?: string;
  /** A ready client (tests, shared configuration). The adapter owns it from then on: `close()` destroys it. */
  client?: RDSClient;
}

/**
 * Aurora clusters behind domain-named methods; no SDK type leaves this file. Credentials and
 * endpoint as for every adapter here (AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_RDS apply). Errors through
 * `toActionError`: access denied names the IAM action, a missing cluster names it.
 */
export class RdsAdapter {
  private readonly client: RDSClient;

  constructor(options: RdsAdapterOptions = {}) {
    this.client = options.client ?? new RDSClient({ region: options.region, maxAttempts: RDS_MAX_ATTEMPTS });
  }

  /**
   * The cluster, its members (writer first, then readers by promotion tier) with each instance's
   * status, AZ and class: DescribeDBClusters, then DescribeDBInstances filtered on the cluster.
   */
  async describeCluster(cluster: string, options: RdsCallOptions = {}): Promise<AuroraCluster> {
    const resource = `Aurora cluster ${cluster}`;
    let out;
    try {
      out = await this.client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: cluster }), { abortSignal: options.abortSignal });
    } catch (err) {
      throw toActionError(err, { iamAction: 'rds:DescribeDBClusters', resource }, { notFound: notFound(cluster) });
    }
    const found = out.DBClusters?.[0];
    if (!found) throw toActionError({ name: 'DBClusterNotFoundFault', message: `DBCluster ${cluster} not found.` }, { iamAction: 'rds:DescribeDBClusters', resource }, { notFound: notFound(cluster) });

    const instances = new Map<string, { status: string; availabilityZone: string | null; promotionTier: number | null; instanceClass: string | null }>();
    let marker: string | undefined;
    let pages = 0;
    do {
      let page;
      try {
        page = await this.client.send(new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-cluster-id', Values: [cluster] }], Marker: marker }), { abortSignal: options.abortSignal });
      } catch (err) {
        throw toActionError(err, { iamAction: 'rds:DescribeDBInstances', resource }, { notFound: notFound(cluster) });
      }
      for (const i of page.DBInstances ?? []) {
        if (!i.DBInstanceIdentifier) continue;
        instances.set(i.DBInstanceIdentifier, {
          status: i.DBInstanceStatus ?? 'unknown',
          availabilityZone: i.AvailabilityZone ?? null,
          promotionTier: i.PromotionTier ?? null,
          instanceClass: i.DBInstanceClass ?? null,
        });
      }
      marker = page.Marker;
      pages++;
    } while (marker && pages < MAX_PAGES);

    const members: AuroraMember[] = (found.DBClusterMembers ?? [])
      .filter((m) => m.DBInstanceIdentifier)
      .map((m) => {
        const instance = instances.get(m.DBInstanceIdentifier!);
        return {
          instanceId: m.DBInstanceIdentifier!,
          role: m.IsClusterWriter ? ('writer' as const) : ('reader' as const),
          // An instance the cluster lists but DescribeDBInstances does not (being deleted): unknown, not available.
          status: instance?.status ?? 'unknown',
          availabilityZone: instance?.availabilityZone ?? null,
          promotionTier: m.PromotionTier ?? instance?.promotionTier ?? null,
          instanceClass: instance?.instanceClass ?? null,
        };
      })
      .sort((a, b) => (a.role === b.role ? (a.promotionTier ?? 99) - (b.promotionTier ?? 99) || a.instanceId.localeCompare(b.instanceId) : a.role === 'writer' ? -1 : 1));
    return { cluster, arn: found.DBClusterArn ?? null, status: found.Status ?? 'unknown', engine: found.Engine ?? null, members };
  }

  /** The cluster's failover events since `since`, oldest first (DescribeEvents, source type db-cluster). */
  async failoverEvents(cluster: string, since: Date, options: RdsCallOptions = {}): Promise<RdsEvent[]> {
    const events: RdsEvent[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      let page;
      try {
        page = await this.client.send(
          new DescribeEventsCommand({ SourceType: SourceType.db_cluster, SourceIdentifier: cluster, StartTime: since, EventCategories: ['failover'], MaxRecords: 100, Marker: marker }),
          { abortSignal: options.abortSignal },
        );
      } catch (err) {
        throw toActionError(err, { iamAction: 'rds:DescribeEvents', resource: `Aurora cluster ${cluster}` }, { notFound: notFound(cluster) });
      }
      for (const e of page.Events ?? []) {
        events.push({ at: e.Date ? e.Date.toISOString() : null, message: e.Message ?? '', categories: e.EventCategories ?? [], sourceId: e.SourceIdentifier ?? null });
      }
      marker = page.Marker;
      pages++;
    } while (marker && pages < MAX_PAGES);
    return events.sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''));
  }

  /**
   * FailoverDBCluster to `targetInstance`; resolves to the cluster's status as RDS answered. When it
   * rejects, the error says whether the failover certainly did not start (`notApplied`, errors.ts).
   */
  async failover(cluster: string, targetInstance: string, options: RdsCallOptions = {}): Promise<{ status: string }> {
    const command = new FailoverDBClusterCommand({ DBClusterIdentifier: cluster, TargetDBInstanceIdentifier: targetInstance });
    // Every attempt of the SDK's retry passes here: a 5xx in an early attempt may have started the
    // failover even if the last attempt was refused.
    const attempts = recordAttempts(command);
    try {
      const out = await this.client.send(command, { abortSignal: options.abortSignal });
      return { status: out.DBCluster?.Status ?? 'unknown' };
    } catch (err) {
      throw toActionError(err, { iamAction: 'rds:FailoverDBCluster', resource: `Aurora cluster ${cluster}` }, { notFound: notFound(cluster, targetInstance), mutating: true, attempts });
    }
  }

  /** The client's region (for console links), or null when none resolves. */
  region(): Promise<string | null> {
    return clientRegion(this.client);
  }

  close(): void {
    this.client.destroy();
  }
}

function notFound(cluster: string, instance?: string): Record<string, string> {
  return {
    DBClusterNotFoundFault: `Aurora cluster "${cluster}" not found`,
    ...(instance ? { DBInstanceNotFoundFault: `DB instance "${instance}" not found in Aurora cluster "${cluster}"` } : {}),
  };
}
