import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSourceProblem } from '@responder/domain';
import { testActionDescriptors } from '../../../test/support/test-actions';
import { loadRunbooks, runbookFiles } from './loader';

describe('loadRunbooks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'runbooks-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (file: string, text: string) => writeFileSync(join(dir, file), text);
  const step = 'steps:\n  - { id: a, action: note, with: { text: hi } }\n';

  it('reads *.yaml and *.yml in name order, and leaves out the catalog, other files and folders', () => {
    write('b.yml', `name: b\n${step}`);
    write('a.yaml', `name: a\n${step}`);
    write('service-catalog.yaml', 'services: {}\n');
    write('README.md', '# not a runbook\n');
    write('other.yaml', `name: other\n${step}`);
    mkdirSync(join(dir, 'nested.yaml'));
    expect(runbookFiles(dir, ['other.yaml'])).toEqual([join(dir, 'a.yaml'), join(dir, 'b.yml')]);
    const loaded = loadRunbooks(dir, testActionDescriptors, { skip: ['other.yaml'] });
    expect(loaded.problems).toEqual([]);
    expect(loaded.runbooks.map((r) => r.name)).toEqual(['a', 'b']);
    expect(loaded.runbooks[0].file).toBe(join(dir, 'a.yaml'));
  });

  it('reports every problem of every file, and keeps the valid runbooks', () => {
    write('a.yaml', `name: a\nsteps:\n  - { id: x, action: nope.nope }\n`);
    write('b.yaml', `name: b\n${step}`);
    write('c.yaml', `name: c\nsteps: {}\n`);
    const loaded = loadRunbooks(dir, testActionDescriptors);
    expect(loaded.runbooks.map((r) => r.name)).toEqual(['b']);
    expect(loaded.problems.map((p) => formatSourceProblem({ ...p, file: p.file.slice(dir.length + 1) }))).toEqual([
      expect.stringMatching(/^a\.yaml:3:22: steps\[0\]\.action: unknown action "nope\.nope"/),
      'c.yaml:2:8: steps: expected array, received object',
    ]);
  });

  it('reports a name used twice at the second file, even when the first is invalid', () => {
    write('a.yaml', `name: same\nsteps: []\n`);
    write('b.yaml', `# comment\nname: same\n${step}`);
    const loaded = loadRunbooks(dir, testActionDescriptors);
    expect(loaded.problems.map((p) => `${p.file.slice(dir.length + 1)}:${p.line}:${p.column}: ${p.message}`)).toEqual([
      'a.yaml:2:8: expected at least one step',
      'b.yaml:2:7: runbook name "same" is already used by a.yaml (line 1): names must be unique',
    ]);
    expect(loaded.runbooks).toEqual([]);
  });

  it('says so when the directory does not exist', () => {
    const loaded = loadRunbooks(join(dir, 'missing'), testActionDescriptors);
    expect(loaded.problems).toEqual([{ file: join(dir, 'missing'), line: 1, column: 1, path: '(body)', message: 'no such directory' }]);
  });

  it('loads an empty directory as no runbooks', () => {
    expect(loadRunbooks(dir, testActionDescriptors)).toEqual({ runbooks: [], problems: [], files: [] });
  });
});
