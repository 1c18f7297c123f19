import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The golden files are the RCAs of real engine runs: each scenario of the scenario suite
 * (test/scenarios, the real service against moto) writes its incident's document with
 * `UPDATE_GOLDEN=1 npx jest test/scenarios` (one file per scenario, `scenario-<name>.md`). Ids,
 * names and times differ from run to run, so they are not compared byte for byte: each is linted,
 * its diagrams are parsed with mermaid's grammars, and what a reader needs is checked to be there.
 */
const ROOT = join(__dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/rca');
const SCENARIOS = join(ROOT, 'test/scenarios');

const goldens = readdirSync(FIXTURES).filter((f) => f.endsWith('.md')).sort();
const read = (file: string) => readFileSync(join(FIXTURES, file), 'utf8');
const diagramsIn = (md: string) => [...md.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)].map((m) => m[1]);
/** The lines of one `## ` section. */
const section = (md: string, title: string) => md.split(/^## /m).find((s) => s.startsWith(`${title}\n`)) ?? '';

describe('golden RCAs (real runs of the scenario suite)', () => {
  it('there is one per scenario, and nothing else', () => {
    const scenarios = readdirSync(SCENARIOS).filter((f) => f.endsWith('.spec.ts'));
    expect(goldens).toEqual(scenarios.map((f) => `scenario-${f.replace(/\.spec\.ts$/, '')}.md`).sort());
  });

  it('every one passes markdownlint with the repository configuration', () => {
    const lint = spawnSync(join(ROOT, 'node_modules/.bin/markdownlint-cli2'), goldens.map((f) => join(FIXTURES, f)), { cwd: ROOT, encoding: 'utf8' });
    expect(`${lint.stdout}${lint.stderr}`).toContain('0 error(s)');
    expect(lint.status).toBe(0);
  });

  it("every mermaid diagram in them parses with mermaid's grammars", () => {
    const diagrams = goldens.flatMap((f) => diagramsIn(read(f)));
    expect(diagrams.length).toBeGreaterThanOrEqual(goldens.length);
    const run = spawnSync(process.execPath, [join(ROOT, 'test/support/mermaid-check.mjs')], { cwd: ROOT, input: JSON.stringify(diagrams.map((text) => ({ text }))), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual(diagrams.map(() => ({ ok: true })));
  });

  it.each(goldens)('%s: status and owner at the top, an estimate of the failed requests, an outcome, and no request id line for a step that made no call', (file) => {
    const md = read(file);
    expect(md.split('\n')[2]).toMatch(/^\*\*Postmortem\*\*: (draft|in review|published); owner: /);
    expect(md).toMatch(/^- \*\*Failed requests\*\*: (about [\d,]+ \(5xx responses counted by|— \(not estimated: )/m);
    expect(md).toMatch(/^- \*\*Outcome\*\*: (mitigated by Responder alone|mitigated by Responder with a person's approval|mitigated outside Responder|not mitigated yet)/m);
    const response = section(md, 'Response and recovery');
    expect(response).toContain('| Alarm → verdict |');
    for (const action of response.split(/^### /m).slice(1)) {
      if (action.includes('\n- Not called: ')) expect(action).not.toContain('Request id');
      else expect(action).toMatch(/\n- Request id: `[^`]+`/);
    }
  });

  it("the bad deployment's: impact with the failed requests, cause with evidence, response with request ids, lessons, the outcome and the recovery time", () => {
    const md = read('scenario-bad-deployment.md');
    expect(md).toMatch(/^\*\*Postmortem\*\*: in review; owner: alice\\@example\.com/m);
    expect(section(md, 'Impact')).toMatch(/- \*\*Failed requests\*\*: about [\d,]+ \(5xx responses counted by .+ELB 5xx and .+target 5xx/);
    expect(section(md, 'Root cause and trigger (hypothesis)')).toMatch(/- \*\*Cause\*\*: deployment[\s\S]*Evidence:\n\n- `deploy`: [\s\S]*- `logs`: .*TypeError/);
    const response = section(md, 'Response and recovery');
    expect(response).toMatch(/\*\*Outcome\*\*: mitigated by Responder alone: rollback, granted by policy; recovered .+ after the impact began\./);
    expect(response).toMatch(/\| Failed deployment recovery time \(DORA: impact started → recovery\) \| \d+m( \d+s)? \|/);
    expect(response).toMatch(/### production-down: rollback \(deploy\.rollback\)\n\n- Approval: granted by policy:recent-deploy[\s\S]*?- Request id: `[^`]+`/);
    expect(section(md, 'Lessons learned')).toMatch(/### What went well\n\n> .*\n\n- Responder opened the incident/);
    expect(md).toContain('- **Status**: resolved');
  });

  it("the other outcomes, from the scenarios' people: a person's approval, a rejection then recovery outside Responder, nothing yet", () => {
    expect(read('scenario-cpu-capacity.md')).toMatch(/- \*\*Outcome\*\*: mitigated by Responder with a person's approval: scale-up; recovered/);
    expect(read('scenario-decoy-deployment-database.md')).toMatch(/- \*\*Outcome\*\*: mitigated outside Responder/);
    expect(read('scenario-decoy-deployment-database.md')).toMatch(/### production-down: failover \(aurora\.failover\)\n\n- Not called: rejected by alice\\@example\.com: not this one/);
    expect(read('scenario-memory-oom.md')).toMatch(/- \*\*Outcome\*\*: not mitigated yet/);
  });
});
