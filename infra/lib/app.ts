import { resolve } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { ResponderStack, type ResponderStackProps } from './responder-stack';

/**
 * Context (cdk -c key=value, or cdk.json): every value optional, so `cdk synth` runs with none and
 * without AWS credentials (the stacks are environment-agnostic unless account and region are given).
 */
export interface ResponderContext {
  runbooksDir?: string;
  ecrRepository?: string;
  slackBotTokenSecretArn?: string;
  slackAppTokenSecretArn?: string;
  slackChannel?: string;
  slackTeamId?: string;
  mode?: string;
  desiredCount?: string | number;
  vpcEndpoints?: string | boolean;
  account?: string;
  region?: string;
}

/** Every context key the app reads (docs/deploy.md and the README name each one; a test checks). */
export const CONTEXT_KEYS: ReadonlyArray<keyof ResponderContext> = [
  'runbooksDir',
  'ecrRepository',
  'slackBotTokenSecretArn',
  'slackAppTokenSecretArn',
  'slackChannel',
  'slackTeamId',
  'mode',
  'desiredCount',
  'vpcEndpoints',
  'account',
  'region',
];

function str(app: App, key: keyof ResponderContext): string | undefined {
  const v: unknown = app.node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'object') throw new Error(`context ${key}: expected a single value, got ${JSON.stringify(v)}`);
  // -c gives strings; cdk.json may give numbers or booleans.
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The stack properties shared by both variants, from context; a bad value stops synth naming the key. */
export function propsFromContext(app: App): Omit<ResponderStackProps, 'intake'> {
  const runbooksDir = resolve(str(app, 'runbooksDir') ?? resolve(__dirname, '..', '..', 'runbooks'));
  const mode = str(app, 'mode') ?? 'dry-run';
  if (mode !== 'live' && mode !== 'dry-run') throw new Error(`context mode: expected live or dry-run, got "${mode}"`);
  const desiredCount = Number(str(app, 'desiredCount') ?? 2);
  if (!Number.isInteger(desiredCount) || desiredCount < 1) throw new Error(`context desiredCount: expected a whole number ≥ 1, got "${str(app, 'desiredCount')}"`);
  const bot = str(app, 'slackBotTokenSecretArn');
  const appToken = str(app, 'slackAppTokenSecretArn');
  if ((bot === undefined) !== (appToken === undefined)) throw new Error('context slackBotTokenSecretArn and slackAppTokenSecretArn: give both (Socket Mode) or neither (Slack off)');
  const account = str(app, 'account');
  const region = str(app, 'region');
  if (account !== undefined && !/^\d{12}$/.test(account)) throw new Error(`context account: expected a 12-digit AWS account id, got "${account}"`);
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new Error(`context region: expected an AWS region such as us-east-1, got "${region}"`);
  return {
    runbooksDir,
    ecrRepositoryName: str(app, 'ecrRepository') ?? 'responder',
    slack: bot && appToken ? { botTokenSecretArn: bot, appTokenSecretArn: appToken, channel: str(app, 'slackChannel'), teamId: str(app, 'slackTeamId') } : undefined,
    mode,
    desiredCount,
    vpcEndpoints: str(app, 'vpcEndpoints') !== 'false',
    policyAccount: account,
    policyRegion: region,
    env: account || region ? { account, region } : undefined,
  };
}

/** Both variants: `Responder` (SQS intake, nothing inbound) and `ResponderApiDestination` (HTTPS intake through an ALB). */
export function buildStacks(app: App): { sqs: ResponderStack; apiDestination: ResponderStack } {
  const props = propsFromContext(app);
  if (!props.env?.region) {
    // The ALB's access-log bucket policy names the region's Elastic Load Balancing principal.
    throw new Error('context region: ResponderApiDestination needs the region at synth time (cdk synth -c region=<region>)');
  }
  return {
    sqs: new ResponderStack(app, 'Responder', { ...props, intake: 'sqs' }),
    apiDestination: new ResponderStack(app, 'ResponderApiDestination', { ...props, intake: 'api-destination' }),
  };
}
