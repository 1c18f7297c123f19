import { type Document, LineCounter, type Scalar, isMap, isNode, isScalar, parseDocument } from 'yaml';
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
  const parsed = parseYamlSource(file, text, schema);
  return parsed.ok ? { ok: true, value: parsed.value } : { ok: false, problems: parsed.problems };
}

/** Finds positions in a parsed YAML file, for problems found after the schema (cross-checks). */
export interface YamlLocator {
  readonly file: string;
  /** The node at `path` (or its nearest existing parent). */
  at(path: ReadonlyArray<PropertyKey>): { line: number; column: number };
  /**
   * Character `offset` of the string value at `path`. Exact for a plain or quoted scalar written
   * on one line; for a block scalar (`|`, `>`) or a multi-line one, the start of the scalar.
   */
  inString(path: ReadonlyArray<PropertyKey>, offset: number): { line: number; column: number };
  problem(path: ReadonlyArray<PropertyKey>, message: string, offset?: number): SourceProblem;
}

export type YamlSourceParsed<T> =
  | { ok: true; value: T; locator: YamlLocator }
  /** `raw` and `locator` are there when the YAML itself parsed (the schema failed). */
  | { ok: false; problems: SourceProblem[]; raw?: unknown; locator?: YamlLocator };

/** Like parseYamlWith, and also gives a locator for the checks that come after the schema. */
export function parseYamlSource<S extends z.ZodType>(file: string, text: string, schema: S): YamlSourceParsed<z.output<S>> {
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
  const locator = makeLocator(file, text, doc, lineCounter);
  const raw: unknown = doc.toJS();
  const result = schema.safeParse(raw, { reportInput: true });
  if (result.success) return { ok: true, value: result.data, locator };
  const problems = toProblems(result.error);
  return {
    ok: false,
    raw,
    locator,
    problems: result.error.issues.map((issue, i) => {
      // An unknown key is best shown where the key is written, not at its parent mapping.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const where = (keys.length > 0 ? locateKey(doc, lineCounter, issue.path, keys[0]) : null) ?? locate(doc, lineCounter, issue.path);
      return { file, ...where, path: formatPath(issue.path), message: problems[i].message };
    }),
  };
}

function makeLocator(file: string, text: string, doc: Document, lineCounter: LineCounter): YamlLocator {
  const at = (path: ReadonlyArray<PropertyKey>) => locate(doc, lineCounter, path);
  const inString = (path: ReadonlyArray<PropertyKey>, offset: number) => {
    const node: unknown = doc.getIn(path as (string | number)[], true);
    if (!isScalar(node) || !node.range) return at(path);
    const start = node.range[0];
    const index = sourceIndexInScalar(text.slice(start, node.range[1]), node.type, offset);
    const pos = lineCounter.linePos(start + (index ?? 0));
    return { line: pos.line, column: pos.col };
  };
  return {
    file,
    at,
    inString,
    problem: (path, message, offset) => ({
      file,
      ...(offset === undefined ? at(path) : inString(path, offset)),
      path: formatPath(path),
      message,
    }),
  };
}

/**
 * Maps an offset in a scalar's value to an index in its source text, for scalars on one line:
 * plain (as written), single-quoted ('' is one quote) and double-quoted (backslash escapes).
 */
function sourceIndexInScalar(raw: string, type: Scalar['type'], offset: number): number | null {
  if (raw.includes('\n')) return null;
  if (type === 'PLAIN') return offset;
  if (type !== 'QUOTE_SINGLE' && type !== 'QUOTE_DOUBLE') return null;
  let i = 1;
  for (let v = 0; v < offset && i < raw.length - 1; v++) {
    if (type === 'QUOTE_SINGLE' && raw[i] === "'" && raw[i + 1] === "'") i += 2;
    else if (type === 'QUOTE_DOUBLE' && raw[i] === '\\') {
      const width: Record<string, number> = { x: 4, u: 6, U: 10 };
      i += width[raw[i + 1]] ?? 2;
    } else i += 1;
  }
  return i;
}

function locateKey(
  doc: Document,
  lineCounter: LineCounter,
  path: ReadonlyArray<PropertyKey>,
  key: string,
): { line: number; column: number } | null {
  const map: unknown = path.length === 0 ? doc.contents : doc.getIn(path as (string | number)[], true);
  if (!isMap(map)) return null;
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  if (!pair || !isScalar(pair.key) || !pair.key.range) return null;
  const pos = lineCounter.linePos(pair.key.range[0]);
  return { line: pos.line, column: pos.col };
}

/** Line and column (1-based) of the deepest existing node on a path. */
export function locate(
  doc: Document,
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
