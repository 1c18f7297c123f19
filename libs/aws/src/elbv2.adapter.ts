import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PermanentActionError } from '@responder/domain';
import { toActionError } from './errors';
import { clientRegion } from './region';

/**
 * Attempts per call, the first included. The SDK retries throttling, 5xx and network errors with
 * exponential backoff and jitter (after throttling: up to 1, 2, 4, 8 s), so five attempts ride out
 * about 15 s of throttling; what still fails is left to the step's own retries (a plain Error).
 */
export const ELBV2_MAX_ATTEMPTS = 5;

/** DescribeTargetGroups' page limit: the fewest round trips. */
const PAGE_SIZE = 400;

/** How a target group checks its targets. `null` where AWS leaves a field out (TCP checks have no path or matcher). */
export interface HealthCheckSettings {
  enabled: boolean;
  /** HTTP, HTTPS, TCP, ... */
  protocol: string | null;
  /** A port number as a string, or `traffic-port`: the port each target receives traffic on. */
  port: string | null;
  path: string | null;
  intervalSeconds: number | null;
  timeoutSeconds: number | null;
  /** Consecutive successes before an unhealthy target is healthy again. */
  healthyThreshold: number | null;
  /** Consecutive failures before a healthy target is unhealthy. */
  unhealthyThreshold: number | null;
  /** The codes a check must answer with: `Matcher.HttpCode` (`200`, `200-299`), or `GrpcCode` for gRPC target groups. */
  matcher: string | null;
}

export interface TargetGroupDescription {
  arn: string;
  name: string;
  protocol: string | null;
  port: number | null;
  /** instance, ip, lambda or alb. */
  targetType: string | null;
  /** Empty when no listener rule forwards to the group (e.g. the idle half of a blue/green pair). */
  loadBalancerArns: string[];
  healthCheck: HealthCheckSettings;
}

export interface TargetHealthDescription {
  /** Instance id, IP address, Lambda ARN or ALB ARN. */
  id: string;
  port?: number;
  availabilityZone?: string;
  /** initial, healthy, unhealthy, unhealthy.draining, unused, draining or unavailable. */
  state: string;
  /** The port health checks go to for this target (`traffic-port` resolved by the caller). */
  healthCheckPort?: string;
  /** AWS's reason code, e.g. `Target.ResponseCodeMismatch`; absent when healthy. */
  reason?: string;
  description?: string;
}

export interface CallOptions {
  /** Aborting it cancels the call in flight (and any retry still to come). */
  abortSignal?: AbortSignal;
}

export interface Elbv2AdapterOptions {
  /** Default: the SDK's own chain (AWS_REGION, profile). */
  region?: string;
  /** A ready client (tests, shared configuration), used as it is. The adapter owns it from then on: `close()` destroys it. */
  client?: ElasticLoadBalancingV2Client;
}

/**
 * Elastic Load Balancing v2 (ALB/NLB target groups) behind domain-named methods; no SDK type leaves this file.
 *
 * Credentials come from the SDK's default provider chain. No endpoint is set here, so
 * AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 (moto, LocalStack) apply without code.
 *
 * Errors (`toActionError`, shared by the adapters): AccessDenied (naming the IAM action), a target
 * group that does not exist (naming its ARN) and any other request AWS refuses become
 * `PermanentActionError`, since retrying cannot help; throttling, 5xx and network errors the SDK
 * could not get past in ELBV2_MAX_ATTEMPTS are thrown as a plain Error, for the step to retry. An
 * aborted call rejects with the SDK's own AbortError.
 */
export class Elbv2Adapter {
  private readonly client: ElasticLoadBalancingV2Client;

  constructor(options: Elbv2AdapterOptions = {}) {
    this.client = options.client ?? new ElasticLoadBalancingV2Client({ region: options.region, maxAttempts: ELBV2_MAX_ATTEMPTS });
  }

  /**
   * The named target groups, in the order asked for. An empty list returns [] without a call:
   * DescribeTargetGroups without ARNs would describe every target group of the account.
   */
  async describeTargetGroups(arns: readonly string[], options: CallOptions = {}): Promise<TargetGroupDescription[]> {
    const unique = [...new Set(arns)];
    if (unique.length === 0) return [];
    let groups: TargetGroup[];
    try {
      groups = await this.targetGroupPages(unique, options);
    } catch (error) {
      // AWS says only "One or more target groups not found": ask for each ARN to name the missing ones.
      if (errorName(error) === 'TargetGroupNotFoundException' && unique.length > 1) {
        const missing = await this.missingTargetGroups(unique, options);
        throw domainError(error, 'DescribeTargetGroups', (missing.length > 0 ? missing : unique).join(', '));
      }
      throw domainError(error, 'DescribeTargetGroups', unique.join(', '));
    }
    const byArn = new Map(groups.map((g) => [g.TargetGroupArn, g]));
    return unique.map((arn) => {
      const group = byArn.get(arn);
      if (!group) throw new PermanentActionError(`target group not found: ${arn}`);
      return toTargetGroupDescription(group, arn);
    });
  }

  /** Every target registered in the group (and those still draining), with its health. One call: the API does not paginate. */
  async describeTargetHealth(targetGroupArn: string, options: CallOptions = {}): Promise<TargetHealthDescription[]> {
    try {
      const out = await this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }), {
        abortSignal: options.abortSignal,
      });
      return (out.TargetHealthDescriptions ?? []).map((d) => {
        if (!d.Target?.Id) throw new Error(`DescribeTargetHealth returned a target without an id for ${targetGroupArn}`);
        return omitUndefined({
          id: d.Target.Id,
          port: d.Target.Port,
          availabilityZone: d.Target.AvailabilityZone,
          // AWS always sends a state; "unavailable" (health unknown) is the honest reading if a stand-in does not.
          state: d.TargetHealth?.State ?? 'unavailable',
          healthCheckPort: d.HealthCheckPort,
          reason: d.TargetHealth?.Reason,
          description: d.TargetHealth?.Description,
        });
      });
    } catch (error) {
      throw domainError(error, 'DescribeTargetHealth', targetGroupArn);
    }
  }

  /** The client's region (for console links), or null when none resolves. */
  region(): Promise<string | null> {
    return clientRegion(this.client);
  }

  close(): void {
    this.client.destroy();
  }

  private async targetGroupPages(arns: string[], options: CallOptions): Promise<TargetGroup[]> {
    const groups: TargetGroup[] = [];
    let marker: string | undefined;
    do {
      const out = await this.client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: arns, PageSize: PAGE_SIZE, Marker: marker }), {
        abortSignal: options.abortSignal,
      });
      groups.push(...(out.TargetGroups ?? []));
      marker = out.NextMarker;
    } while (marker);
    return groups;
  }

  private async missingTargetGroups(arns: string[], options: CallOptions): Promise<string[]> {
    const found = await Promise.all(
      arns.map(async (arn) => {
        try {
          await this.targetGroupPages([arn], options);
          return null;
        } catch (error) {
          if (errorName(error) === 'TargetGroupNotFoundException') return arn;
          throw domainError(error, 'DescribeTargetGroups', arn);
        }
      }),
    );
    return found.filter((arn): arn is string => arn !== null);
  }
}

function toTargetGroupDescription(g: TargetGroup, arn: string): TargetGroupDescription {
  return {
    arn,
    name: g.TargetGroupName ?? nameOfTargetGroupArn(arn),
    protocol: g.Protocol ?? null,
    port: g.Port ?? null,
    targetType: g.TargetType ?? null,
    loadBalancerArns: g.LoadBalancerArns ?? [],
    healthCheck: {
      // Always on for instance, ip and alb targets (they cannot be turned off); AWS sends the field, a stand-in may not.
      enabled: g.HealthCheckEnabled ?? true,
      protocol: g.HealthCheckProtocol ?? null,
      port: g.HealthCheckPort ?? null,
      path: g.HealthCheckPath ?? null,
      intervalSeconds: g.HealthCheckIntervalSeconds ?? null,
      timeoutSeconds: g.HealthCheckTimeoutSeconds ?? null,
      healthyThreshold: g.HealthyThresholdCount ?? null,
      unhealthyThreshold: g.UnhealthyThresholdCount ?? null,
      matcher: g.Matcher?.HttpCode ?? g.Matcher?.GrpcCode ?? null,
    },
  };
}

/** `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-blue/73e2d6bc24d8a067` → `checkout-blue` (else the ARN itself). */
export function nameOfTargetGroupArn(arn: string): string {
  return /:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn;
}

/** The error a caller sees for a failed call of `operation` (the API name; the IAM action is `elasticloadbalancing:<operation>`). */
function domainError(error: unknown, operation: string, targetGroups: string): Error {
  return toActionError(
    error,
    { iamAction: `elasticloadbalancing:${operation}`, resource: targetGroups },
    { notFound: { TargetGroupNotFoundException: `target group not found: ${targetGroups}` } },
  );
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function omitUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
