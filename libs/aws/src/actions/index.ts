export * from './alb-target-health.action';
