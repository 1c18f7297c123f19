import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { parseCatalog } from '@responder/domain';
import { loadConfig } from '../../apps/responder/src/config/config';
import { createApp } from '../../apps/responder/src/create-app';

export const INGEST_KEY = 'test-ingest-key-0123456789';
export const API_TOKEN = 'test-api-token-0123456789';

/** The whole service on the shipped example catalog, its own key prefix, its logs captured. */
export async function startApp(prefix: string, env: Record<string, string> = {}): Promise<{ app: INestApplication; logs: () => string }> {
  const config = loadConfig({
    REDIS_URL: process.env.REDIS_URL,
    REDIS_PREFIX: prefix,
    INGEST_API_KEY: INGEST_KEY,
    API_TOKEN,
    LOG_LEVEL: 'debug',
    ...env,
  });
  const file = join(__dirname, '..', '..', 'runbooks', 'service-catalog.yaml');
  const parsed = parseCatalog(file, readFileSync(file, 'utf8'));
  if (!parsed.ok) throw new Error('example catalog is invalid');
  const chunks: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const app = await createApp({ config, catalog: parsed.value, logDestination });
  return { app, logs: () => chunks.join('') };
}
