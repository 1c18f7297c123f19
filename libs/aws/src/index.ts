export * from './sqs.adapter';
