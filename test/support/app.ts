import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { type AnyAction, type GoalChecker, formatSourceProblem, parseCatalog } from '@responder/domain';
import { type Runbook, knownActions, parseRunbook } from '@responder/runbooks';
import { loadConfig } from '../../apps/responder/src/config/config';
import { createApp } from '../../apps/responder/src/create-app';

export const INGEST_KEY = 'test-ingest-key-0123456789';
export const API_TOKEN = 'test-api-token-0123456789';
const ROOT = join(__dirname, '..', '..');

export interface StartOptions {
  /** Catalog file (default: the shipped example runbooks/service-catalog.yaml). */
  catalogFile?: string;
  /** Runbook YAML texts, validated against the built-in and the given actions. */
  runbooks?: string[];
  actions?: AnyAction[];
  /** The goal checks of mutating steps (default: the service's own, on AWS). */
  goalChecker?: GoalChecker;
}

/** Parses runbook texts as the service would, failing loudly on a problem. */
export function runbooksFrom(texts: string[], actions: AnyAction[]): Runbook[] {
  const known = knownActions(actions);
  return texts.map((text, i) => {
    const parsed = parseRunbook(`runbook-${i}.yaml`, text, known);
    if (!parsed.ok) throw new Error(parsed.problems.map(formatSourceProblem).join('\n'));
    return parsed.value;
  });
}

/** The whole service, its own key prefix, its logs captured. */
export async function startApp(prefix: string, env: Record<string, string> = {}, options: StartOptions = {}): Promise<{ app: INestApplication; logs: () => string }> {
  const config = loadConfig({
    REDIS_URL: process.env.REDIS_URL,
    REDIS_PREFIX: prefix,
    INGEST_API_KEY: INGEST_KEY,
    API_TOKEN,
    LOG_LEVEL: 'debug',
    ...env,
  });
  const file = options.catalogFile ?? join(ROOT, 'runbooks', 'service-catalog.yaml');
  const parsed = parseCatalog(file, readFileSync(file, 'utf8'));
  if (!parsed.ok) throw new Error(`invalid test catalog: ${parsed.problems.map(formatSourceProblem).join('; ')}`);
  const chunks: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const actions = options.actions ?? [];
  const app = await createApp({ config, catalog: parsed.value, runbooks: runbooksFrom(options.runbooks ?? [], actions), actions, goalChecker: options.goalChecker, logDestination });
  return { app, logs: () => chunks.join('') };
}
