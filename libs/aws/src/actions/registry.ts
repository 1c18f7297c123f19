import type { Action } from '@responder/domain';
import { ApplicationAutoScalingAdapter } from '../app-autoscaling.adapter';
import { EcsAdapter } from '../ecs.adapter';
import { Elbv2Adapter } from '../elbv2.adapter';
import { albTargetHealthAction } from './alb-target-health.action';
import { ecsScaleUpAction } from './ecs-scale-up.action';
import { ecsServiceStatusAction } from './ecs-service-status.action';

/**
 * The AWS actions, each on its adapter. Clients are created here and connect on first use, with
 * credentials from the default provider chain. Adding an action: one file and one line here.
 */
export function awsActions(options: { region?: string } = {}): Action[] {
  const ecs = new EcsAdapter({ region: options.region });
  return [
    albTargetHealthAction(new Elbv2Adapter({ region: options.region })),
    ecsServiceStatusAction(ecs),
    ecsScaleUpAction(ecs, new ApplicationAutoScalingAdapter({ region: options.region })),
  ];
}
