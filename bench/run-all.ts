/**
 * `npm run bench`: every benchmark, one after the other, on the build `npm run bench` just made;
 * then bench/RESULTS.md with the figures of this one run, each beside its floor measured in the
 * same run. Commit RESULTS.md when the figures are meant to be kept (the machine quiet, nothing
 * else running): the file says which machine and which commit they are from.
 *
 *   npm run bench
 *   BENCH_ONLY=intake,storm npm run bench    # a subset (intake, engine, diagnosis, production-down, storm)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { OUT_DIR, ROOT, type Summary } from './support/service';

interface Bench {
  name: string;
  /** The command, run from the repository root. */
  argv: string[];
  env?: NodeJS.ProcessEnv;
}

const TS_NODE = ['node', '-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'];
const BENCHES: Bench[] = [
  { name: 'intake', argv: ['npx', 'tsx', 'bench/intake.bench.ts'] },
  { name: 'engine', argv: [...TS_NODE, 'bench/engine.bench.ts'] },
  { name: 'diagnosis', argv: [...TS_NODE, 'bench/diagnosis.bench.ts'] },
  { name: 'production-down', argv: ['npx', 'tsx', 'bench/production-down.bench.ts'] },
  { name: 'storm', argv: ['npx', 'tsx', 'bench/storm.bench.ts'] },
];

function main(): number {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const unknown = only?.filter((n) => !BENCHES.some((b) => b.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: no benchmark ${unknown.join(', ')} (there are ${BENCHES.map((b) => b.name).join(', ')})`);
  const dir = join(OUT_DIR, 'summaries');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = new Date();
  const outcomes: { bench: Bench; code: number; seconds: number; summary: Summary | null }[] = [];
  for (const bench of BENCHES.filter((b) => !only || only.includes(b.name))) {
    console.log(`\n######## ${bench.name}: ${bench.argv.join(' ')}`);
    const file = join(dir, `${bench.name}.json`);
    const t = Date.now();
    const run = spawnSync(bench.argv[0], bench.argv.slice(1), {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, ...bench.env, BENCH_SUMMARY: file, TS_NODE_PROJECT: 'tsconfig.json' },
    });
    const summary = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Summary) : null;
    outcomes.push({ bench, code: run.status ?? 1, seconds: Math.round((Date.now() - t) / 1000), summary });
  }

  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? ' (with uncommitted changes)' : '';
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  const lines = [
    '# Benchmark results',
    '',
    `One run of \`npm run bench\` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, commit \`${commit}\`${dirty}:`,
    `${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, Redis on the same machine.`,
    'Every figure stands beside its floor, measured in the same run; how each is measured is in the',
    "benchmark's own file under bench/. Figures from a busy or different machine are not comparable.",
    '',
  ];
  for (const { bench, code, seconds, summary } of outcomes) {
    lines.push(`## ${summary?.title ?? bench.name}`, '');
    lines.push(`\`${bench.argv.join(' ')}\`: ${code === 0 ? 'passed its checks' : `**exit code ${code}: a check failed, see its output**`} in ${seconds} s.`, '');
    if (!summary) {
      lines.push('(it wrote no summary)', '');
      continue;
    }
    lines.push('| what | figure | floor (same run) | against the floor |', '|---|---|---|---|');
    for (const row of summary.rows) lines.push(`| ${cell(row.what)} | ${cell(row.value)} | ${cell(row.floor ?? '')} | ${cell(row.against ?? '')} |`);
    lines.push('');
    for (const note of summary.notes ?? []) lines.push(`- ${note}`);
    if (summary.notes?.length) lines.push('');
  }
  writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), `${lines.join('\n').trimEnd()}\n`);
  console.log(`\nbench/RESULTS.md written (${outcomes.length} benchmarks).`);
  return outcomes.some((o) => o.code !== 0) ? 1 : 0;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

process.exit(main());
