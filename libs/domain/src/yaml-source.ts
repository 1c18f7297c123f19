import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { formatPath, toProblems } from './validation';

/** A problem in a YAML file, with where it is: what `runbook validate` and the boot check print. */
export interface SourceProblem {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

export function formatSourceProblem(p: SourceProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path === '(body)' ? '' : `${p.path}: `}${p.message}`;
}

export type SourceParsed<T> = { ok: true; value: T } | { ok: false; problems: SourceProblem[] };

/**
 * Parses YAML text and validates it with a schema, locating each problem at the line and column of
 * the node it is about (or of its nearest existing parent, for a missing key).
 */
export function parseYamlWith<S extends z.ZodType>(file: string, text: string, schema: S): SourceParsed<z.output<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, path: '(body)', message: e.message.split('\n')[0] };
      }),
    };
  }
  const result = schema.safeParse(doc.toJS(), { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  const problems = toProblems(result.error);
  return {
    ok: false,
    problems: result.error.issues.map((issue, i) => ({
      file,
      ...locate(doc, lineCounter, issue.path),
      path: formatPath(issue.path),
      message: problems[i].message,
    })),
  };
}

/** Line and column (1-based) of the deepest existing node on a path. */
export function locate(
  doc: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
  path: ReadonlyArray<PropertyKey>,
): { line: number; column: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = doc.getIn(path.slice(0, depth) as (string | number)[], true);
    if (isNode(node) && node.range) {
      const pos = lineCounter.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return { line: 1, column: 1 };
}
