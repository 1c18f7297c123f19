/**
 * Diagnosis latency benchmark (issue 12, item 6): alarm → diagnosis with every AWS call 200 ms away,
 * as real AWS is, beside the floor measured in the same run.
 *
 *   npm run bench:diagnosis
 *   BENCH_RUNS=20            # measured incidents (after one warm-up), one at a time
 *   BENCH_DELAY_MS=200       # added to every AWS call (moto and the CloudTrail stand-in)
 *   REDIS_URL=redis://host:6379
 *
 * A local proxy in front of a moto_server of its own (and one in front of the CloudTrail stand-in,
 * since moto has no LookupEvents) holds every request BENCH_DELAY_MS before forwarding it, and
 * records when each call started and ended. The whole service runs in this process (dry-run mode:
 * mitigations are planned, never called) with the shipped production-down runbook, on a catalog of
 * one ECS service per run (seeded in moto: two task definition revisions, a log group with error
 * lines; a CloudTrail change in the stand-in).
 *
 * Measured per incident, from the bench's clock just before the alarm is POSTed:
 * - alarm → diagnosis: the `diagnose` step's finishedAt when the runbook has one, else the last
 *   diagnostic step's (alb, ecs, metrics, logs, deploy, aurora, changes) finishedAt, as the engine
 *   stored them;
 * - the floor: the longest chain of AWS calls of that incident where each starts after the one
 *   before it ended (from the proxy's records), × the delay: the critical path of dependent calls
 *   in that very run (moto's own processing time is left out of the floor, so it counts as overhead);
 * - the ratio and the overhead (measured − floor).
 * - alarm → verdict in Slack: when the Slack Web API stand-in (test/support/slack-stub.ts) received
 *   the first chat.postMessage / chat.update of the incident's channel that shows the verdict
 *   ("*Verdict: "); Slack is reached through the reporter's own queue, as in production.
 *
 * Runs under ts-node (Nest's injection needs decorator metadata). Keys under a prefix of its own,
 * deleted at the end.
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateLogGroupCommand, CreateLogStreamCommand, CloudWatchLogsClient, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateClusterCommand, CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import { startApp } from '../test/support/app';
import { startCloudTrailStub } from '../test/support/cloudtrail-stub';
import { startSlackStub } from '../test/support/slack-stub';
import { client } from '../test/support/engine';
import { freePort } from '../test/support/net';
import { deleteByPrefix } from '../test/support/redis';
import { writeSummary } from './support/service';

const ROOT = resolve(__dirname, '..');
const RUNS = positiveInt('BENCH_RUNS', 20);
const DELAY_MS = positiveInt('BENCH_DELAY_MS', 200);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DIAGNOSTICS = ['alb', 'ecs', 'metrics', 'logs', 'deploy', 'aurora', 'changes'];
const TERMINAL = new Set(['succeeded', 'failed', 'skipped', 'cancelled', 'timed_out', 'rejected']);

interface Call {
  start: number;
  end: number;
}

/** An HTTP proxy that holds each request `delayMs` before forwarding it to `target`, recording each call. */
async function delayingProxy(target: string, delayMs: number, calls: Call[]): Promise<{ url: string; server: Server }> {
  const t = new URL(target);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const start = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        const up = httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } }, (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
          upRes.on('end', () => calls.push({ start, end: performance.now() }));
        });
        up.on('error', () => {
          res.writeHead(502);
          res.end();
        });
        up.end(Buffer.concat(chunks));
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** The most calls in a chain where each starts after the one before ended (DP over calls sorted by end). */
export function longestChain(calls: readonly Call[]): number {
  const sorted = [...calls].sort((a, b) => a.end - b.end);
  const best: number[] = [];
  let max = 0;
  for (let i = 0; i < sorted.length; i++) {
    let b = 1;
    for (let j = 0; j < i; j++) if (sorted[j].end <= sorted[i].start && best[j] + 1 > b) b = best[j] + 1;
    best.push(b);
    max = Math.max(max, b);
  }
  return max;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function main(): Promise<void> {
  const motoPort = await freePort();
  const moto: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(motoPort)], { stdio: 'ignore' });
  const motoUrl = `http://127.0.0.1:${motoPort}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${motoUrl}/moto-api/`)).status < 500) break;
    } catch {
      if (i > 100) throw new Error('moto_server did not start (pip install "moto[server]")');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const cloudtrail = await startCloudTrailStub();
  const slack = await startSlackStub();
  const calls: Call[] = [];
  const awsProxy = await delayingProxy(motoUrl, DELAY_MS, calls);
  const trailProxy = await delayingProxy(cloudtrail.url, DELAY_MS, calls);
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';

  // Seed moto directly (no delay): one service per run, plus the warm-up.
  const ecs = new ECSClient({ endpoint: motoUrl });
  const logs = new CloudWatchLogsClient({ endpoint: motoUrl });
  const cluster = `bench-${randomBytes(3).toString('hex')}`;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const services = Array.from({ length: RUNS + 1 }, (_, i) => `svc${i}`);
  const now = Date.now();
  for (const svc of services) {
    const revs: string[] = [];
    for (const image of [`${svc}:1`, `${svc}:2`]) {
      const td = await ecs.send(new RegisterTaskDefinitionCommand({ family: `${cluster}-${svc}`, containerDefinitions: [{ name: 'app', image, memory: 512, essential: true }] }));
      revs.push(td.taskDefinition!.taskDefinitionArn!);
    }
    await ecs.send(new CreateServiceCommand({ cluster, serviceName: svc, taskDefinition: revs[0], desiredCount: 2 }));
    await ecs.send(new UpdateServiceCommand({ cluster, service: svc, taskDefinition: revs[1] }));
    const group = `/ecs/${cluster}/${svc}`;
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'app/1' }));
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 'app/1',
        logEvents: [
          { timestamp: now - 4 * 60_000, message: 'INFO GET /health 200, no errors' },
          { timestamp: now - 3 * 60_000, message: 'FATAL config: DATABASE_URL missing' },
          { timestamp: now - 2 * 60_000, message: 'ERROR upstream timeout after 5012 ms' },
        ],
      }),
    );
    cloudtrail.seed({ eventName: 'UpdateService', eventSource: 'ecs.amazonaws.com', at: now - 10 * 60_000, who: { type: 'AssumedRole', role: 'Admin', session: 'dana@example.com' }, requestParameters: { cluster, service: svc, desiredCount: 1 } });
  }
  ecs.destroy();
  logs.destroy();

  const dir = mkdtempSync(join(tmpdir(), 'bench-diagnosis-'));
  const catalogFile = join(dir, 'catalog.yaml');
  writeFileSync(
    catalogFile,
    `services:\n${services.map((svc) => `  ${svc}:\n    alarms: { names: [${svc}-5xx] }\n    ecs: { cluster: ${cluster}, service: ${svc} }\n    logGroups: [/ecs/${cluster}/${svc}]\n`).join('')}`,
  );
  const runbook = readFileSync(join(ROOT, 'runbooks', 'production-down.yaml'), 'utf8');
  const hasDiagnose = /\n\s+- id: diagnose\b/.test(runbook);
  process.env.AWS_ENDPOINT_URL = awsProxy.url;
  process.env.AWS_ENDPOINT_URL_CLOUDTRAIL = trailProxy.url;
  const { awsActions } = await import('@responder/aws/actions');
  const prefix = `bench-diagnosis-${randomBytes(4).toString('hex')}`;
  process.env.REDIS_URL = REDIS_URL;
  let app: INestApplication | undefined;
  try {
    const slackEnv = { SLACK_BOT_TOKEN: 'xoxb-bench-0000-token', SLACK_SIGNING_SECRET: 'bench-signing-secret-0123456789', SLACK_API_URL: slack.apiUrl, SLACK_CHANNEL: '#bench' };
    ({ app } = await startApp(prefix, { RESPONDER_MODE: 'dry-run', LOG_LEVEL: 'warn', ...slackEnv }, { catalogFile, runbooks: [runbook], actions: awsActions({ region: 'us-east-1' }) }));
    const api = client(app);
    const rows: { ms: number; slackMs: number | null; floorMs: number; chain: number; calls: number }[] = [];
    for (let i = 0; i < services.length; i++) {
      calls.length = 0;
      const t0 = Date.now();
      const incidentId = await api.alarm(`${services[i]}-5xx`);
      let done: number | null = null;
      while (done === null) {
        const [run] = await api.runs(incidentId);
        const steps = run?.steps ?? [];
        const watched = steps.filter((s) => DIAGNOSTICS.includes(s.id) || s.id === 'diagnose');
        const target = hasDiagnose ? watched.filter((s) => s.id === 'diagnose') : watched;
        if (target.length > 0 && target.every((s) => TERMINAL.has(s.status))) {
          done = Math.max(...target.map((s) => (s.finishedAt ? Date.parse(s.finishedAt) : Date.now())));
        } else {
          await new Promise((r) => setTimeout(r, 20));
        }
        if (Date.now() - t0 > 120_000) throw new Error(`incident ${incidentId}: diagnostics not finished after 120 s`);
      }
      // Calls made after the diagnosis finished (a dry-run mitigation's reads) are not on its path.
      const inRun = calls.filter((c) => c.end <= performance.now() - (Date.now() - done));
      const chain = longestChain(inRun);
      // The incident's message in the Slack stand-in, once it shows the verdict.
      let slackAt: number | null = null;
      const slackDeadline = Date.now() + 30_000;
      while (hasDiagnose && slackAt === null && Date.now() < slackDeadline) {
        const shown = slack.calls.find((c) => c.at >= t0 && c.ok && (c.method === 'chat.postMessage' || c.method === 'chat.update') && JSON.stringify(c.args).includes('*Verdict: '));
        if (shown) slackAt = shown.at;
        else await new Promise((r) => setTimeout(r, 20));
      }
      if (i > 0) rows.push({ ms: done - t0, slackMs: slackAt === null ? null : slackAt - t0, floorMs: chain * DELAY_MS, chain, calls: inRun.length });
      await new Promise((r) => setTimeout(r, 300)); // let the run's tail settle before the next alarm
    }
    const ms = rows.map((r) => r.ms);
    const floor = rows.map((r) => r.floorMs);
    const ratios = rows.map((r) => r.ms / r.floorMs);
    console.log(`diagnosis benchmark: ${RUNS} incidents, every AWS call +${DELAY_MS} ms; measuring alarm → ${hasDiagnose ? 'diagnose step finished (verdict stored)' : 'last diagnostic step finished (no diagnose step in the runbook yet)'}`);
    console.log(`  alarm → diagnosis  p50 ${percentile(ms, 50)} ms  p99 ${percentile(ms, 99)} ms  (min ${Math.min(...ms)}, max ${Math.max(...ms)})`);
    console.log(`  critical path      p50 ${percentile(floor, 50)} ms  p99 ${percentile(floor, 99)} ms  (longest chain of sequential AWS calls: ${percentile(rows.map((r) => r.chain), 50)} calls at p50; ${percentile(rows.map((r) => r.calls), 50)} calls per incident)`);
    console.log(`  ratio              p50 ${percentile(ratios, 50).toFixed(2)}×  p99 ${percentile(ratios, 99).toFixed(2)}×  overhead p50 ${percentile(rows.map((r) => r.ms - r.floorMs), 50)} ms`);
    console.log(`  target (issue 12): within 1.3 × critical path + 1 s, p50 under 5 s: ${rows.every((r) => r.ms <= 1.3 * r.floorMs + 1000) && percentile(ms, 50) < 5000 ? 'met' : 'NOT met'}`);
    const slackMs = rows.map((r) => r.slackMs).filter((v): v is number => v !== null);
    if (slackMs.length === 0) console.log('  alarm → verdict in Slack: never shown (no diagnose step, or the reporter did not post it within 30 s)');
    else console.log(`  alarm → verdict in Slack  p50 ${percentile(slackMs, 50)} ms  p99 ${percentile(slackMs, 99)} ms  (${slackMs.length} of ${rows.length} incidents; the stand-in answers at once)`);
    writeSummary({
      title: 'Alarm → verdict (production-down diagnostics, 200 ms per AWS call)',
      rows: [
        {
          what: `alarm → verdict stored, p50 / p99 (${rows.length} incidents, +${DELAY_MS} ms per AWS call)`,
          value: `${percentile(ms, 50)} / ${percentile(ms, 99)} ms`,
          floor: `${percentile(floor, 50)} / ${percentile(floor, 99)} ms (longest chain of sequential AWS calls × ${DELAY_MS} ms)`,
          against: `${percentile(ratios, 50).toFixed(2)}× / ${percentile(ratios, 99).toFixed(2)}×, +${percentile(rows.map((r) => r.ms - r.floorMs), 50)} ms at p50`,
        },
        ...(slackMs.length > 0 ? [{ what: 'alarm → verdict shown in Slack, p50 / p99', value: `${percentile(slackMs, 50)} / ${percentile(slackMs, 99)} ms`, floor: 'the same critical path' }] : []),
      ],
    });
  } finally {
    await app?.close();
    const redis = new Redis(REDIS_URL);
    await deleteByPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    awsProxy.server.close();
    trailProxy.server.close();
    await cloudtrail.close();
    await slack.close();
    moto.kill();
  }
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(raw)}`);
  return n;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
