import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ActionDescriptor, SourceProblem } from '@responder/domain';
import { type ParseRunbookOptions, type Runbook, type SourceLocation, analyseRunbook } from './runbook';

/** Files in a runbooks directory that are not runbooks. */
export const NOT_RUNBOOKS: readonly string[] = ['service-catalog.yaml', 'service-catalog.yml'];

export interface LoadRunbooksOptions extends ParseRunbookOptions {
  /** More file names to leave out (e.g. a SERVICE_CATALOG kept in the same folder under another name). */
  skip?: readonly string[];
}

export interface LoadedRunbooks {
  runbooks: Runbook[];
  /** Every problem of every file, in file order; empty when all runbooks are valid. */
  problems: SourceProblem[];
  /** The runbook files read, in order. */
  files: string[];
}

/** Runbook files of a directory: `*.yaml` / `*.yml`, not the service catalog, sorted by name. */
export function runbookFiles(dir: string, skip: readonly string[] = []): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !NOT_RUNBOOKS.includes(f) && !skip.includes(f))
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Reads and validates every runbook of a directory, and reports all problems of all files
 * (including a name used by two files, even when one of them has other problems).
 */
export function loadRunbooks(dir: string, actions: ReadonlyMap<string, ActionDescriptor>, options: LoadRunbooksOptions = {}): LoadedRunbooks {
  let files: string[];
  try {
    files = runbookFiles(dir, options.skip);
  } catch (err) {
    const message = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (err as Error).message;
    return { runbooks: [], files: [], problems: [{ file: dir, line: 1, column: 1, path: '(body)', message }] };
  }
  const runbooks: Runbook[] = [];
  const problems: SourceProblem[] = [];
  const names = new Map<string, SourceLocation>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push({ file, line: 1, column: 1, path: '(body)', message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    const { result, name } = analyseRunbook(file, text, actions, options);
    const fileProblems = result.ok ? [] : [...result.problems];
    if (name) {
      const first = names.get(name.value);
      if (first) {
        fileProblems.push({
          ...name.location,
          path: 'name',
          message: `runbook name "${name.value}" is already used by ${basename(first.file)} (line ${first.line}): names must be unique`,
        });
        fileProblems.sort((a, b) => a.line - b.line || a.column - b.column);
      } else {
        names.set(name.value, name.location);
      }
    }
    problems.push(...fileProblems);
    if (result.ok && fileProblems.length === 0) runbooks.push(result.value);
  }
  return { runbooks, problems, files };
}
