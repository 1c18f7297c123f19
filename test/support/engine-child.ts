// The service with the test actions, as a child process the crash tests can SIGKILL.
// Run with: node -r ts-node/register/transpile-only -r tsconfig-paths/register test/support/engine-child.ts
// Environment: the service's own variables, plus CATALOG_FILE and RUNBOOK_FILES (paths, ":"-separated),
// and KILL_AFTER_SLACK_ACK=1 to SIGKILL itself as soon as it has answered a Slack request.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Redis from 'ioredis';
import { formatSourceProblem, parseCatalog } from '@responder/domain';
import { loadConfig } from '../../apps/responder/src/config/config';
import { createApp } from '../../apps/responder/src/create-app';
import { runbooksFrom } from './app';
import { createTestActions, createTestGoalChecker } from './test-actions';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const catalogFile = process.env.CATALOG_FILE!;
  const catalog = parseCatalog(catalogFile, readFileSync(catalogFile, 'utf8'));
  if (!catalog.ok) throw new Error(catalog.problems.map(formatSourceProblem).join('\n'));
  const redis = new Redis(config.redis.url);
  const actions = createTestActions(redis, config.redis.prefix);
  const runbooks = runbooksFrom(
    (process.env.RUNBOOK_FILES ?? '').split(':').filter(Boolean).map((f) => readFileSync(f, 'utf8')),
    actions,
  );
  const app = await createApp({ config, catalog: catalog.value, runbooks, actions, goalChecker: createTestGoalChecker(redis, config.redis.prefix) });
  if (process.env.KILL_AFTER_SLACK_ACK === '1') {
    // The crash test's "killed right after the ack": once the answer to a Slack request has been
    // handed to the OS, the process dies before it can do anything more.
    (app.getHttpServer() as Server).on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/slack/events')) res.on('finish', () => process.kill(process.pid, 'SIGKILL'));
    });
  }
  await app.listen(config.port, '127.0.0.1');
  process.stdout.write('CHILD-LISTENING\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
