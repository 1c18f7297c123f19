export * from './alb-target-health.action';
export * from './ecs-service-status.action';
export * from './ecs-scale-up.action';
export * from './recent-deployment.action';
export * from './rollback.action';
export * from './metrics.action';
export * from './log-errors.action';
export * from './registry';
