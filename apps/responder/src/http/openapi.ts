import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/** The security schemes the controllers name (`@ApiBearerAuth()`, `@ApiSecurity(INGEST_API_KEY_SCHEME)`). */
export const INGEST_API_KEY_SCHEME = 'ingest-api-key';

/**
 * The HTTP API as OpenAPI 3, generated from the controllers and their decorators when the app is
 * created, served at GET /openapi.json and committed as docs/openapi.json (`npm run openapi`
 * rewrites it; a test checks that the two agree). Slack's endpoint is Bolt's router, not a
 * controller, so it is described here.
 */
export function openApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Responder')
    .setDescription(
      'Incident-response runbook automation for AWS ECS services: CloudWatch alarms in through EventBridge, ' +
        'incidents with a timeline, runbooks with approvals, a verdict, the RCA out.',
    )
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API_TOKEN (read-only and automation), or a personal token / OIDC token (approvals act as that person)' })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key', description: 'INGEST_API_KEY, sent by the EventBridge connection' }, INGEST_API_KEY_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}` });
  document.paths['/slack/events'] = {
    post: {
      operationId: 'Slack_events',
      summary: "Slack's events, interactivity (button clicks) and slash commands (HTTP mode; unused in Socket Mode)",
      tags: ['slack'],
      description: 'Every request must carry a valid X-Slack-Signature and X-Slack-Request-Timestamp (SLACK_SIGNING_SECRET).',
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } }, 'application/x-www-form-urlencoded': { schema: { type: 'object' } } } },
      responses: { '200': { description: 'acknowledged (within Slack’s 3 s)' }, '401': { description: 'bad or missing signature' } },
    },
  };
  return document;
}

/** Serves the document at GET /openapi.json (no UI: the service has no browser-facing pages). */
export function serveOpenApi(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup('openapi', app, document, { ui: false, raw: ['json'], jsonDocumentUrl: 'openapi.json' });
}

/** The version in the project's package.json, found upwards from here (src in development, dist when built). */
export function responderVersion(from = __dirname): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'responder' && pkg.version) return pkg.version;
    }
  }
  return '0.0.0';
}
