export * from './sqs.adapter';
export * from './elbv2.adapter';
export * from './errors';
export * from './ecs.adapter';
export * from './app-autoscaling.adapter';
export * from './codedeploy.adapter';
export * from './cloudwatch.adapter';
export * from './logs.adapter';
