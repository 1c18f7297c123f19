export * from './sqs.adapter';
export * from './elbv2.adapter';
