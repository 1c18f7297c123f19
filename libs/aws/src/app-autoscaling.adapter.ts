import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand, ScalableDimension, ServiceNamespace } from '@aws-sdk/client-application-auto-scaling';
import { type EcsCallOptions, ecsName } from './ecs.adapter';
import { toActionError } from './errors';

/** Attempts per call, the first included (the SDK's retry of throttling, 5xx and network errors). */
export const APP_AUTOSCALING_MAX_ATTEMPTS = 5;

/** The range Application Auto Scaling keeps an ECS service's desired count in. */
export interface EcsScalableTarget {
  minCapacity: number;
  maxCapacity: number;
}

export interface ApplicationAutoScalingAdapterOptions {
  /** Default: the SDK's chain (AWS_REGION, profile). */
  region?: string;
  /** A ready client (tests, shared configuration). The adapter owns it from then on: `close()` destroys it. */
  client?: ApplicationAutoScalingClient;
}

/**
 * Application Auto Scaling, read only, for the ECS services it manages; no SDK type leaves this
 * file. Credentials and endpoint as for every adapter here (AWS_ENDPOINT_URL applies).
 */
export class ApplicationAutoScalingAdapter {
  private readonly client: ApplicationAutoScalingClient;

  constructor(options: ApplicationAutoScalingAdapterOptions = {}) {
    this.client = options.client ?? new ApplicationAutoScalingClient({ region: options.region, maxAttempts: APP_AUTOSCALING_MAX_ATTEMPTS });
  }

  /** The service's scalable target (resource id `service/<cluster>/<service>`), or null when none is registered. */
  async scalableTarget(cluster: string, service: string, options: EcsCallOptions = {}): Promise<EcsScalableTarget | null> {
    const resourceId = `service/${ecsName(cluster)}/${ecsName(service)}`;
    let out;
    try {
      out = await this.client.send(
        new DescribeScalableTargetsCommand({
          ServiceNamespace: ServiceNamespace.ECS,
          ResourceIds: [resourceId],
          ScalableDimension: ScalableDimension.ECSServiceDesiredCount,
        }),
        { abortSignal: options.abortSignal },
      );
    } catch (err) {
      throw toActionError(err, { iamAction: 'application-autoscaling:DescribeScalableTargets', resource: `scalable target ${resourceId}` });
    }
    const target = out.ScalableTargets?.find((t) => t.ResourceId === resourceId);
    if (!target || target.MinCapacity === undefined || target.MaxCapacity === undefined) return null;
    return { minCapacity: target.MinCapacity, maxCapacity: target.MaxCapacity };
  }

  close(): void {
    this.client.destroy();
  }
}
