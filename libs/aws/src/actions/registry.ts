import type { AnyAction, GoalChecker } from '@responder/domain';
import { ApplicationAutoScalingAdapter } from '../app-autoscaling.adapter';
import { CodeDeployAdapter } from '../codedeploy.adapter';
import { EcsAdapter } from '../ecs.adapter';
import { Elbv2Adapter } from '../elbv2.adapter';
import { CloudTrailAdapter } from '../cloudtrail.adapter';
import { CloudWatchAdapter } from '../cloudwatch.adapter';
import { LogsAdapter } from '../logs.adapter';
import { albTargetHealthAction } from './alb-target-health.action';
import { RdsAdapter } from '../rds.adapter';
import { auroraFailoverAction } from './aurora-failover.action';
import { auroraHealthAction } from './aurora-health.action';
import { ecsScaleUpAction } from './ecs-scale-up.action';
import { ecsServiceStatusAction } from './ecs-service-status.action';
import { cloudwatchMetricsAction } from './metrics.action';
import { logErrorsAction } from './log-errors.action';
import { recentChangesAction } from './recent-changes.action';
import { recentDeploymentAction } from './recent-deployment.action';
import { rollbackAction } from './rollback.action';
import { verifyRecoveryAction } from './verify-recovery.action';
import { awsGoalChecker } from './goal-checks';

/**
 * The AWS actions, each on its adapter. Clients are created here and connect on first use, with
 * credentials from the default provider chain. Adding an action: one file and one line here.
 */
export function awsActions(options: { region?: string } = {}): AnyAction[] {
  const ecs = new EcsAdapter({ region: options.region });
  const codedeploy = new CodeDeployAdapter({ region: options.region });
  const rds = new RdsAdapter({ region: options.region });
  const auroraMetrics = new CloudWatchAdapter({ region: options.region });
  return [
    albTargetHealthAction(new Elbv2Adapter({ region: options.region })),
    ecsServiceStatusAction(ecs),
    ecsScaleUpAction(ecs, new ApplicationAutoScalingAdapter({ region: options.region })),
    cloudwatchMetricsAction(new CloudWatchAdapter({ region: options.region })),
    logErrorsAction(new LogsAdapter({ region: options.region })),
    recentDeploymentAction(ecs, codedeploy),
    recentChangesAction(new CloudTrailAdapter({ region: options.region })),
    rollbackAction(ecs, codedeploy),
    auroraHealthAction(rds, auroraMetrics),
    auroraFailoverAction(rds, auroraMetrics),
    verifyRecoveryAction(new CloudWatchAdapter({ region: options.region }), new Elbv2Adapter({ region: options.region })),
  ];
}

/** The goal checks of the mutating actions (goal-checks.ts), on their own clients. */
export function awsGoalChecks(options: { region?: string } = {}): GoalChecker {
  return awsGoalChecker({
    ecs: new EcsAdapter({ region: options.region }),
    cloudwatch: new CloudWatchAdapter({ region: options.region }),
    elbv2: new Elbv2Adapter({ region: options.region }),
    rds: new RdsAdapter({ region: options.region }),
  });
}
