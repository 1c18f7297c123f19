/**
 * The intake benchmark's floor: the least an HTTP intake can do and still keep Responder's
 * promise, in plain Express. It does what the service's intake does in Redis (the same ingest
 * script through the same store: dedupe, open/attach/resolve, the timeline; and a coalesced plan
 * job in BullMQ when an alarm opened or joined an incident), and nothing else: no Nest, no
 * request logging, no metrics, no detail-type filter. The service over this floor is what its
 * framework and its checks cost.
 *
 * Run by bench/intake.bench.ts as a child process (tsx), with the service's environment:
 * PORT, HOST, REDIS_URL, REDIS_PREFIX, INGEST_API_KEY, SERVICE_CATALOG (default the shipped one).
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import express from 'express';
import Redis from 'ioredis';
import { awsActions } from '@responder/aws/actions';
import { CatalogMatcher, parseAlarmEvent, parseCatalog } from '@responder/domain';
import { knownActions } from '@responder/runbooks';
import { IncidentStore } from '@responder/store';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const prefix = env('REDIS_PREFIX');
const key = Buffer.from(env('INGEST_API_KEY'));
const catalogPath = env('SERVICE_CATALOG', join(__dirname, '..', '..', 'runbooks', 'service-catalog.yaml'));
const parsed = parseCatalog(catalogPath, readFileSync(catalogPath, 'utf8'), { actions: knownActions(awsActions({ region: 'us-east-1' })) });
if (!parsed.ok) throw new Error(`invalid catalog ${catalogPath}: ${JSON.stringify(parsed.problems)}`);
const matcher = new CatalogMatcher(parsed.value);

const redis = new Redis(env('REDIS_URL', 'redis://127.0.0.1:6379'), { maxRetriesPerRequest: 1 });
const store = new IncidentStore(redis, { prefix, dedupeTtlSeconds: 24 * 3600, unattachedMaxLen: 100_000 });
const plans = new Queue('steps', { connection: new Redis(env('REDIS_URL', 'redis://127.0.0.1:6379'), { maxRetriesPerRequest: null }), prefix: `${prefix}:bull` });

const app = express();
app.use(express.json({ limit: '256kb' }));
app.post('/events/eventbridge', async (req, res) => {
  const given = Buffer.from(String(req.headers['x-api-key'] ?? ''));
  if (given.length !== key.length || !timingSafeEqual(given, key)) {
    res.status(401).json({ message: 'bad key' });
    return;
  }
  const event = parseAlarmEvent(req.body);
  if (!event.ok) {
    res.status(400).json({ problems: event.problems });
    return;
  }
  try {
    const match = matcher.match(event.value);
    const result = await store.ingest({ alarm: event.value, service: match?.service.name ?? null, matchedBy: match?.matchedBy ?? null, source: 'http' });
    const outcome = result.deduplicated ? result.firstOutcome : result.outcome;
    if (result.incidentId && (outcome === 'opened' || outcome === 'attached')) {
      await plans.add('plan', { incidentId: result.incidentId }, { deduplication: { id: `plan-${result.incidentId}`, keepLastIfActive: true } });
    }
    res.status(202).json(result);
  } catch (err) {
    res.status(503).json({ message: (err as Error).message });
  }
});
app.get('/ready', (_req, res) => void res.status(200).json({ status: 'ready' }));

const server = app.listen(Number(env('PORT')), env('HOST', '127.0.0.1'));
process.on('SIGTERM', () => {
  server.close(() => {
    void Promise.all([plans.close(), redis.quit()]).finally(() => process.exit(0));
  });
});
