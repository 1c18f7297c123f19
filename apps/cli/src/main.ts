import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ActionDescriptor, type Catalog, type SourceProblem, formatSourceProblem, parseCatalog } from '@responder/domain';
import { awsActions } from '@responder/aws/actions';
import { NOT_RUNBOOKS, knownActions, loadRunbooks } from '@responder/runbooks';
import Redis from 'ioredis';
import { loadRcaInput, renderRca } from '@responder/rca';
import { IncidentStore, RunStore } from '@responder/store';
import { IAM_POLICY_USAGE, buildIamPolicy, parseIamPolicyArgs } from './iam-policy';

/**
 * The command line: `npm run cli -- runbook validate [dir]`, `npm run cli -- iam-policy [dir]`. No Nest here: a command reads files
 * and prints, and runs under tsx (`npm run cli`).
 */

const USAGE = `usage: npm run cli -- <command>

commands:
  runbook validate [dir]   validate every runbook in dir (default: $RUNBOOKS_DIR or runbooks),
                           and the service catalog (service-catalog.yaml) when dir has one
  ${IAM_POLICY_USAGE}
                           print the least-privilege IAM policy (JSON) for the runbooks in dir,
                           scoped to the catalog's resources; region and account come from the
                           catalog's ARNs unless given (region: else $AWS_REGION); with
                           $SQS_QUEUE_URL set it includes the SQS intake's permissions
  rca <incident-id> [-o file]
                           print (or write) the incident's RCA draft as markdown, read from Redis
                           ($REDIS_URL, default redis://127.0.0.1:6379; $REDIS_PREFIX, default responder)
`;

type Write = (text: string) => void;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The runbooks of a directory and its service catalog (when it has one), with every problem of both. */
function loadDir(dir: string, actions: ReadonlyMap<string, ActionDescriptor>) {
  const problems: SourceProblem[] = [];
  let catalog: Catalog | undefined;
  const catalogFile = NOT_RUNBOOKS.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (catalogFile) {
    const parsed = parseCatalog(catalogFile, readFileSync(catalogFile, 'utf8'), { actions });
    if (parsed.ok) catalog = parsed.value;
    else problems.push(...parsed.problems);
  }
  const loaded = loadRunbooks(dir, actions, { catalog });
  problems.push(...loaded.problems);
  return { loaded, catalog, catalogFile, problems };
}

/** Validates a runbooks directory against the actions given; returns the exit code (0 valid, 1 problems). */
export function validateRunbooks(dir: string, actions: ReadonlyMap<string, ActionDescriptor>, out: Write): number {
  const { loaded, catalogFile, problems } = loadDir(dir, actions);

  for (const p of problems) out(`${formatSourceProblem(p)}\n`);
  if (problems.length === 0) {
    out(`${plural(loaded.runbooks.length, 'runbook')} valid${catalogFile ? ', service catalog valid' : ''}\n`);
    return 0;
  }
  const files = new Set(problems.map((p) => p.file)).size;
  out(`${plural(problems.length, 'problem')} in ${plural(files, 'file')}\n`);
  return 1;
}

/**
 * Prints the least-privilege IAM policy for a directory's runbooks (stdout: the JSON document;
 * stderr: warnings). Exit 0; 1 when the runbooks or the catalog have problems (printed on stderr).
 */
export function iamPolicy(args: readonly string[], { env, out, err, actions }: CliIo): number {
  const parsed = parseIamPolicyArgs(args);
  if (typeof parsed === 'string') {
    err(`iam-policy: ${parsed}\n\n${USAGE}`);
    return 2;
  }
  const dir = parsed.dir ?? env.RUNBOOKS_DIR ?? 'runbooks';
  const { loaded, catalog, problems } = loadDir(dir, actions);
  if (problems.length > 0) {
    for (const p of problems) err(`${formatSourceProblem(p)}\n`);
    err(`iam-policy: fix the ${plural(problems.length, 'problem')} above first (npm run cli -- runbook validate ${dir})\n`);
    return 1;
  }
  if (loaded.runbooks.length === 0) err(`warning: no runbooks in ${dir}\n`);
  const { policy, warnings } = buildIamPolicy({
    runbooks: loaded.runbooks,
    actions,
    catalog,
    sqsQueueUrl: env.SQS_QUEUE_URL || undefined,
    region: parsed.region,
    account: parsed.account,
    defaultRegion: env.AWS_REGION || undefined,
  });
  for (const w of warnings) err(`${w}\n`);
  out(`${JSON.stringify(policy, null, 2)}\n`);
  return 0;
}

export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: Write;
  err: Write;
  /** The actions runbooks may name (tests pass their own registry). */
  actions: ReadonlyMap<string, ActionDescriptor>;
}

export function run(argv: readonly string[], { env, out, err, actions }: CliIo): number {
  const [command, sub, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    out(USAGE);
    return 0;
  }
  if (command === 'runbook' && sub === 'validate' && rest.length <= 1) {
    return validateRunbooks(rest[0] ?? env.RUNBOOKS_DIR ?? 'runbooks', actions, out);
  }
  if (command === 'iam-policy') {
    return iamPolicy(argv.slice(1), { env, out, err, actions });
  }
  err(`unknown command: ${argv.join(' ')}\n\n${USAGE}`);
  return 2;
}

/** `rca <id> [-o file]`: the same document as GET /incidents/:id/rca.md. Exit 0, 1 (no incident, no Redis), 2 (usage). */
export async function rca(args: readonly string[], { env, out, err }: Pick<CliIo, 'env' | 'out' | 'err'>): Promise<number> {
  const [id, flag, file, ...extra] = args;
  if (!id || extra.length > 0 || (flag !== undefined && (flag !== '-o' || !file))) {
    err(`usage: npm run cli -- rca <incident-id> [-o file]\n`);
    return 2;
  }
  const prefix = env.REDIS_PREFIX || 'responder';
  const redis = new Redis(env.REDIS_URL || 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    const input = await loadRcaInput(new IncidentStore(redis, { prefix, dedupeTtlSeconds: 60, unattachedMaxLen: 1 }), new RunStore(redis, prefix), id);
    if (!input) {
      err(`no incident ${id} (under the Redis prefix "${prefix}")\n`);
      return 1;
    }
    const markdown = renderRca(input);
    if (file) writeFileSync(file, markdown);
    else out(markdown);
    return 0;
  } catch (e) {
    err(`rca: ${(e as Error).message}\n`);
    return 1;
  } finally {
    redis.disconnect();
  }
}

if (require.main === module && process.argv[2] === 'rca') {
  void rca(process.argv.slice(3), { env: process.env, out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }).then((code) => {
    process.exitCode = code;
  });
} else if (require.main === module) {
  process.exitCode = run(process.argv.slice(2), {
    env: process.env,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    // The CLI only reads the actions' descriptors: the clients never connect, but the SDK refuses
    // to build one without a region, so any region does when AWS_REGION is not set.
    actions: knownActions(awsActions({ region: process.env.AWS_REGION || 'us-east-1' })),
  });
}
