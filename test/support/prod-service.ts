import type { INestApplication } from '@nestjs/common';
import { type AwsOverlay, startAwsOverlay } from '../scenarios/support/aws-overlay';
import { startApp } from './app';
import { type CloudTrailStub, startCloudTrailStub } from './cloudtrail-stub';
import type { ProdWorld } from './prod-world';
import { type SlackStub, startSlackStub } from './slack-stub';

/** The signing secret of the Slack app the service runs as (sign test requests with it). */
export const PROD_SIGNING_SECRET = 'test-signing-secret-0123456789';

/** The real service with the real AWS actions, as the end-to-end tests of a production world run it. */
export interface ProdService {
  app: INestApplication;
  logs: () => string;
  /** The counting AWS stand-in in front of moto_server: every call the service made, and faults to inject. */
  overlay: AwsOverlay;
  cloudtrail: CloudTrailStub;
  slack: SlackStub;
  /** Stops the service and the stand-ins, and forgets the endpoint variables it set. */
  close(): Promise<void>;
}

/**
 * Starts the service on a seeded production world (seedProdWorld): its catalog and runbook, the
 * AWS actions routed through the counting stand-in (AWS_ENDPOINT_URL) to moto_server, CloudTrail to
 * its stand-in, Slack to the Web API stand-in. `env` adds to or overrides the service's settings.
 */
export async function startProdService(prefix: string, world: ProdWorld, motoUrl: string, env: Record<string, string> = {}): Promise<ProdService> {
  const overlay = await startAwsOverlay(motoUrl);
  const cloudtrail = await startCloudTrailStub();
  process.env.AWS_ENDPOINT_URL = overlay.url;
  process.env.AWS_ENDPOINT_URL_CLOUDTRAIL = cloudtrail.url;
  // Imported once the endpoints are set: the actions' clients read them when they are made.
  const { awsActions } = await import('@responder/aws/actions');
  const slack = await startSlackStub();
  const settings = { SLACK_BOT_TOKEN: 'xoxb-test-0000-token', SLACK_SIGNING_SECRET: PROD_SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, ...env };
  const { app, logs } = await startApp(prefix, settings, { catalogFile: world.catalogFile, runbooks: [world.runbook], actions: awsActions({ region: 'us-east-1' }) });
  return {
    app,
    logs,
    overlay,
    cloudtrail,
    slack,
    async close() {
      await app.close();
      await slack.close();
      await cloudtrail.close();
      await overlay.close();
      delete process.env.AWS_ENDPOINT_URL;
      delete process.env.AWS_ENDPOINT_URL_CLOUDTRAIL;
    },
  };
}
