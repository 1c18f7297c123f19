export * from './alb-target-health.action';
export * from './ecs-service-status.action';
export * from './ecs-scale-up.action';
export * from './registry';
