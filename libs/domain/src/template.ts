import { type CompiledExpression, compileExpression } from './expression';

/**
 * Templates: the values of a runbook step's `with`, where strings may contain `${{ expr }}`.
 *
 * - A string that is exactly one `${{ expr }}` (surrounding spaces aside) renders to the raw value
 *   of the expression: a list stays a list, a number a number, `undefined` stays `undefined`.
 * - Any other string with `${{ … }}` in it renders to a string: each expression's value is
 *   interpolated, strings as they are, numbers and booleans with String(), lists and objects as
 *   JSON (String() would give "a,b" or "[object Object]"), and null/undefined as '' (a missing
 *   value in a message should not print "undefined").
 * - Lists and objects are templated recursively (values only; keys are literal); other values
 *   (numbers, booleans, null) are kept as they are.
 * There is no escape for a literal "${{": no parameter has needed one.
 */

export type ValuePath = Array<string | number>;

export interface TemplateReference {
  /** Where in the templated value the string is (`['target_groups']`, `['tags', 0]`). */
  valuePath: ValuePath;
  /** The path the expression reads, from a context root. */
  path: string[];
  /** Offsets of each segment of `path` in that string. */
  offsets: number[];
}

export interface CompiledTemplate {
  render(context: Readonly<Record<string, unknown>>): unknown;
  /** Every path the template's expressions read (deduplicated). */
  references(): string[][];
  referenceSites(): TemplateReference[];
}

export type TemplateCompileResult =
  | { ok: true; template: CompiledTemplate }
  /** `offset` is inside the string at `path` (a path into the value, [] for a plain string). */
  | { ok: false; error: string; offset: number; path: ValuePath };

type Part = string | { expr: CompiledExpression; start: number };
type TNode =
  | { kind: 'constant'; value: unknown }
  | { kind: 'whole'; expr: CompiledExpression; start: number; path: ValuePath }
  | { kind: 'interpolated'; parts: Part[]; path: ValuePath }
  | { kind: 'list'; items: TNode[] }
  | { kind: 'object'; entries: Array<[string, TNode]> };

class TemplateProblem extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly path: ValuePath,
  ) {
    super(message);
  }
}

const OPEN = '${{';
const CLOSE = '}}';

/** Finds the `}}` that closes an expression starting at `from`, ignoring `}}` inside quoted strings. */
function findClose(text: string, from: number): number {
  let quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (text.startsWith(CLOSE, i)) {
      return i;
    }
  }
  return -1;
}

function compileString(text: string, path: ValuePath): TNode {
  const parts: Part[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf(OPEN, i);
    if (open < 0) {
      parts.push(text.slice(i));
      break;
    }
    if (open > i) parts.push(text.slice(i, open));
    const bodyStart = open + OPEN.length;
    const close = findClose(text, bodyStart);
    if (close < 0) throw new TemplateProblem('"${{" is not closed by "}}"', open, path);
    const compiled = compileExpression(text.slice(bodyStart, close));
    if (!compiled.ok) {
      const empty = text.slice(bodyStart, close).trim() === '';
      throw new TemplateProblem(empty ? 'empty "${{ }}": expected an expression inside' : compiled.error, empty ? open : bodyStart + compiled.offset, path);
    }
    parts.push({ expr: compiled.expr, start: bodyStart });
    i = close + CLOSE.length;
  }
  const expressions = parts.filter((p): p is Exclude<Part, string> => typeof p !== 'string');
  if (expressions.length === 0) return { kind: 'constant', value: text };
  if (expressions.length === 1 && parts.every((p) => typeof p !== 'string' || p.trim() === '')) {
    return { kind: 'whole', expr: expressions[0].expr, start: expressions[0].start, path };
  }
  return { kind: 'interpolated', parts, path };
}

function compileNode(value: unknown, path: ValuePath): TNode {
  if (typeof value === 'string') return compileString(value, path);
  if (Array.isArray(value)) return { kind: 'list', items: value.map((v, i) => compileNode(v, [...path, i])) };
  if (typeof value === 'object' && value !== null) {
    return { kind: 'object', entries: Object.entries(value).map(([k, v]) => [k, compileNode(v, [...path, k])]) };
  }
  return { kind: 'constant', value };
}

function interpolate(value: unknown): string {
  if (value == null) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

function render(node: TNode, ctx: Readonly<Record<string, unknown>>): unknown {
  switch (node.kind) {
    case 'constant':
      return node.value;
    case 'whole':
      return node.expr.evaluate(ctx);
    case 'interpolated':
      return node.parts.map((p) => (typeof p === 'string' ? p : interpolate(p.expr.evaluate(ctx)))).join('');
    case 'list':
      return node.items.map((item) => render(item, ctx));
    case 'object':
      // fromEntries defines own properties: a "__proto__" key stays a key instead of setting the
      // rendered object's prototype (which `out[k] = v` would do).
      return Object.fromEntries(node.entries.map(([k, v]) => [k, render(v, ctx)]));
  }
}

function collect(node: TNode, out: TemplateReference[]): void {
  switch (node.kind) {
    case 'constant':
      return;
    case 'whole':
      for (const s of node.expr.referenceSites()) out.push({ valuePath: node.path, path: s.path, offsets: s.offsets.map((o) => o + node.start) });
      return;
    case 'interpolated':
      for (const p of node.parts) {
        if (typeof p === 'string') continue;
        for (const s of p.expr.referenceSites()) out.push({ valuePath: node.path, path: s.path, offsets: s.offsets.map((o) => o + p.start) });
      }
      return;
    case 'list':
      node.items.forEach((n) => collect(n, out));
      return;
    case 'object':
      node.entries.forEach(([, n]) => collect(n, out));
      return;
  }
}

/** Compiles a value (string, list, object, scalar) whose strings may hold `${{ expr }}`. Never throws. */
export function compileTemplate(value: unknown): TemplateCompileResult {
  let root: TNode;
  try {
    root = compileNode(value, []);
  } catch (err) {
    if (err instanceof TemplateProblem) return { ok: false, error: err.message, offset: err.offset, path: err.path };
    throw err;
  }
  const sites: TemplateReference[] = [];
  collect(root, sites);
  const seen = new Set<string>();
  const unique: string[][] = [];
  for (const s of sites) {
    const key = s.path.join('\u0000');
    if (!seen.has(key)) {
      seen.add(key);
      unique.push([...s.path]);
    }
  }
  return {
    ok: true,
    template: {
      render: (ctx) => render(root, ctx),
      references: () => unique.map((p) => [...p]),
      referenceSites: () => sites.map((s) => ({ valuePath: [...s.valuePath], path: [...s.path], offsets: [...s.offsets] })),
    },
  };
}
