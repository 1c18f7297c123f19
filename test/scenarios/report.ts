/**
 * `npm run scenarios`: runs the scenario suite (jest, test/scenarios) and prints one row per
 * scenario (expected cause, verdict, confidence, what changed production without a person, what
 * waits for one) and the confusion counts. Exits with jest's status. Extra arguments go to jest.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Row {
  scenario: string;
  testPath: string;
  expected: string;
  got: string;
  confidence: number | null;
  automatic: string[];
  proposed: string[];
  error: string | null;
}

interface JestJson {
  testResults: { name: string; status: string; assertionResults: { title: string; status: string }[] }[];
}

const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'scenarios-'));
const resultsFile = join(dir, 'results.jsonl');
const jestFile = join(dir, 'jest.json');

const jest = spawnSync(
  process.execPath,
  [require.resolve('jest/bin/jest', { paths: [ROOT] }), ...(process.argv.length > 2 ? process.argv.slice(2) : ['test/scenarios']), '--runInBand', '--json', '--outputFile', jestFile],
  { cwd: ROOT, stdio: 'inherit', env: { ...process.env, SCENARIO_RESULTS: resultsFile } },
);

const rows: Row[] = existsSync(resultsFile)
  ? readFileSync(resultsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Row)
  : [];
const files = existsSync(jestFile) ? (JSON.parse(readFileSync(jestFile, 'utf8')) as JestJson).testResults : [];
const failedChecks = (testPath: string): string[] =>
  (files.find((f) => f.name === testPath)?.assertionResults ?? []).filter((a) => a.status === 'failed').map((a) => a.title);

const table: string[][] = [['scenario', 'expected', 'got', 'confidence', 'automatic', 'proposed', 'checks']];
for (const r of rows.sort((a, b) => a.scenario.localeCompare(b.scenario))) {
  const failed = failedChecks(r.testPath);
  table.push([
    r.scenario,
    r.expected,
    r.got,
    r.confidence === null ? '-' : r.confidence.toFixed(2),
    r.automatic.join(', ') || '-',
    r.proposed.join(', ') || '-',
    r.error ? `did not run: ${r.error.slice(0, 60)}` : failed.length ? `FAIL: ${failed.join('; ')}` : 'pass',
  ]);
}
const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
const line = (row: string[]) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ');
const out: string[] = ['', line(table[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line), ''];

// Confusion counts: expected cause (rows) against the verdict (columns, abbreviated to fit).
const SHORT: Record<string, string> = {
  deployment: 'deploy',
  capacity: 'capac',
  memory: 'memory',
  dependency: 'depend',
  database: 'db',
  'health-check': 'health',
  infrastructure: 'infra',
  'configuration-change': 'config',
  unknown: 'unknown',
};
const causes = [...new Set([...rows.map((r) => r.expected), ...rows.map((r) => r.got)])].sort();
const count = (e: string, g: string) => rows.filter((r) => r.expected === e && r.got === g).length;
const first = Math.max(8, ...rows.map((r) => r.expected.length));
const width = (c: string) => Math.max(7, (SHORT[c] ?? c).length);
out.push('confusion (rows: expected, columns: verdict)');
out.push(['expected'.padEnd(first), ...causes.map((c) => (SHORT[c] ?? c).padStart(width(c)))].join(' '));
for (const e of [...new Set(rows.map((r) => r.expected))].sort()) out.push([e.padEnd(first), ...causes.map((g) => String(count(e, g) || '.').padStart(width(g)))].join(' '));
const correct = rows.filter((r) => r.expected === r.got).length;
const abstained = rows.filter((r) => r.got === 'unknown' && r.expected !== 'unknown').length;
const wrong = rows.length - correct - abstained;
out.push('', `${correct} of ${rows.length} right, ${abstained} abstained (unknown), ${wrong} wrong; results in ${dir}`);
process.stdout.write(`${out.join('\n')}\n`);
process.exit(jest.status ?? 1);
