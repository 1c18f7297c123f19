import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { startApp } from '../support/app';
import { testRedis } from '../support/redis';

const ROOT = join(__dirname, '..', '..');
const { prefix, cleanup } = testRedis('openapi');
let app: INestApplication;

beforeAll(async () => {
  ({ app } = await startApp(prefix));
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

type Operation = { summary?: string; security?: unknown[]; responses: Record<string, { description: string }> };
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** Every route the service answers, as `METHOD /path/{param}`, read from Express's router. */
function servedRoutes(): string[] {
  const express = app.getHttpAdapter().getInstance() as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } };
  return express.router.stack
    // catch-all layers ('/{*path}': Nest's 404 handling) are not routes of the API
    .filter((layer) => layer.route && !layer.route.path.includes('*'))
    .flatMap((layer) => Object.keys(layer.route!.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`))
    .filter((r) => r !== 'GET /openapi.json');
}

describe('GET /openapi.json', () => {
  it('is the committed docs/openapi.json (npm run openapi rewrites it after a change of the API)', async () => {
    const served = await request(app.getHttpServer()).get('/openapi.json').expect(200);
    const committed = JSON.parse(readFileSync(join(ROOT, 'docs', 'openapi.json'), 'utf8')) as Doc;
    expect(served.body).toEqual(committed);
  });

  it('is a valid OpenAPI 3 document', async () => {
    const served = await request(app.getHttpServer()).get('/openapi.json').expect(200);
    const doc = served.body as Doc;
    expect(doc.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('describes every route the service answers, and nothing it does not', async () => {
    const served = await request(app.getHttpServer()).get('/openapi.json').expect(200);
    const doc = served.body as Doc;
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .filter((r) => r !== 'POST /slack/events'); // Bolt's router, mounted only with Slack on
    expect(documented.sort()).toEqual(servedRoutes().sort());
  });

  it('gives every operation a summary and described answers, and names the credential of every protected one', async () => {
    const served = await request(app.getHttpServer()).get('/openapi.json').expect(200);
    const doc = served.body as Doc & { components: { securitySchemes: Record<string, unknown> } };
    const open = new Set(['GET /health', 'GET /ready', 'GET /metrics', 'POST /slack/events']);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['bearer', 'ingest-api-key']);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const route = `${method.toUpperCase()} ${path}`;
        expect({ route, summary: typeof op.summary === 'string' && op.summary.length > 10 }).toEqual({ route, summary: true });
        const codes = Object.keys(op.responses);
        expect({ route, success: codes.some((c) => c.startsWith('2')) }).toEqual({ route, success: true });
        for (const code of codes) expect({ route, code, described: op.responses[code].description.length > 0 }).toEqual({ route, code, described: true });
        expect({ route, secured: (op.security ?? []).length > 0 }).toEqual({ route, secured: !open.has(route) });
      }
    }
  });
});
