import { type INestApplication, Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppOptions } from './app.module';
import { servesRequests } from './config/config';
import { configureBodyParsing } from './http/body-parsing';
import { openApiDocument, responderVersion, serveOpenApi } from './http/openapi';
import { StoreUnavailableFilter } from './http/store-unavailable.filter';
import { MetricsService } from './metrics/metrics.service';
import { SlackBolt, refuseFutureSlackRequests } from './slack/slack-bolt';

/** The service, wired and initialised but not listening: main.ts listens, tests use supertest. */
export async function createApp(options: AppOptions): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule.forRoot(options), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  // Nest flushes buffered logs at listen(); tests never listen, so flush here.
  app.flushLogs();
  // A worker-only replica answers health and metrics (for its orchestrator and Prometheus), nothing else.
  if (!servesRequests(options.config)) app.use(onlyHealthAndMetrics);
  // Bolt verifies Slack's signature over the raw body: its router goes before any body parser.
  const slackRouter = options.config.slack && servesRequests(options.config) ? app.get(SlackBolt).router : null;
  if (slackRouter) {
    app.use(refuseFutureSlackRequests(new NestLogger('Slack')));
    app.use(slackRouter);
  }
  configureBodyParsing(app, app.get(MetricsService));
  app.useGlobalFilters(new StoreUnavailableFilter());
  app.enableShutdownHooks();
  serveOpenApi(app, openApiDocument(app, responderVersion()));
  await app.init();
  return app;
}

const WORKER_PATHS = new Set(['/health', '/ready', '/metrics']);

function onlyHealthAndMetrics(req: { path: string }, res: { status: (code: number) => { json: (body: unknown) => void } }, next: () => void): void {
  if (WORKER_PATHS.has(req.path)) return next();
  res.status(404).json({ statusCode: 404, message: 'this replica runs workers only (RESPONDER_ROLE=worker): send requests to an api or all replica' });
}
