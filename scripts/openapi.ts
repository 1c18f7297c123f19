/**
 * `npm run openapi`: writes docs/openapi.json from the service's controllers (the document GET
 * /openapi.json serves). A test fails when the committed file and the running service disagree.
 * Needs Redis (the service connects at start); nothing is written to it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { startApp } from '../test/support/app';

async function main(): Promise<void> {
  const { app } = await startApp(`openapi-script-${process.pid}`, { LOG_LEVEL: 'silent' });
  try {
    const res = await request(app.getHttpServer() as Parameters<typeof request>[0]).get('/openapi.json').expect(200);
    writeFileSync(join(__dirname, '..', 'docs', 'openapi.json'), `${JSON.stringify(res.body, null, 2)}\n`);
    process.stdout.write(`docs/openapi.json: ${Object.keys((res.body as { paths: object }).paths).length} paths\n`);
  } finally {
    await app.close();
  }
}

void main().catch((e: unknown) => {
  process.stderr.write(`openapi: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
