import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ActionDescriptor, type Catalog, type SourceProblem, formatSourceProblem, parseCatalog } from '@responder/domain';
import { NOT_RUNBOOKS, loadRunbooks } from '@responder/runbooks';
import { EXIT, type Write, plural } from './io';

/** The runbooks of a directory and its service catalog (when it has one), with every problem of both. */
export function loadDir(dir: string, actions: ReadonlyMap<string, ActionDescriptor>) {
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

/**
 * `runbook validate [dir]`: every problem as `file:line:column: message` and a one-line summary on
 * stdout (or, with `json`, `{ valid, runbooks, catalog, problems[] }`). Exit 0 valid, 1 problems.
 */
export function validateRunbooks(dir: string, actions: ReadonlyMap<string, ActionDescriptor>, out: Write, { json = false } = {}): number {
  const { loaded, catalogFile, problems } = loadDir(dir, actions);
  if (json) {
    const report = {
      valid: problems.length === 0,
      runbooks: loaded.runbooks.map((r) => r.name),
      catalog: catalogFile ?? null,
      problems: problems.map((p) => ({ file: p.file, line: p.line, column: p.column, path: p.path, message: p.message })),
    };
    out(`${JSON.stringify(report, null, 2)}\n`);
    return problems.length === 0 ? EXIT.ok : EXIT.failed;
  }
  for (const p of problems) out(`${formatSourceProblem(p)}\n`);
  if (problems.length === 0) {
    out(`${plural(loaded.runbooks.length, 'runbook')} valid${catalogFile ? ', service catalog valid' : ''}\n`);
    return EXIT.ok;
  }
  const files = new Set(problems.map((p) => p.file)).size;
  out(`${plural(problems.length, 'problem')} in ${plural(files, 'file')}\n`);
  return EXIT.failed;
}
