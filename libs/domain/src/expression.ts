/**
 * The expression language of runbooks: `when` conditions, approval policies and `${{ … }}`
 * templates. Syntax and semantics are documented in runbooks/README.md.
 *
 * Why a hand-written tokenizer and Pratt parser rather than a library (jexl, filtrex, a CEL port):
 * - errors point at the exact character of the problem, which the runbook validator turns into
 *   `file:line:column` (libraries report "unexpected token" without a usable position, or throw
 *   strings);
 * - there is no evaluation surface at all: expressions are parsed once, when the runbook loads, into
 *   a closed tree that a small interpreter walks. No `eval`, no `new Function`, no method calls;
 *   member access reads own properties only (`Object.hasOwn`), `__proto__`, `constructor` and
 *   `prototype` are rejected when parsed (and again when read through a computed index), and the
 *   only callable things are the functions of a fixed table, checked (name and arity) when parsed;
 * - it is a few hundred lines we can read, against a dependency whose grammar is bigger than we want.
 *
 * Semantics chosen for runbooks, where a missing output must not crash a run:
 * - a path through something missing is `undefined` (`a.b.c` with no `a`), never a throw;
 * - `null`/`undefined` propagate through arithmetic and make `< <= > >=` false;
 * - `&&` and `||` short-circuit and return booleans (not the operand, as JavaScript does): a
 *   condition reads as true or false, and `default(x, fallback)` is the way to pick a value;
 * - `==`/`!=` never coerce (`1 == '1'` is false); arrays and objects compare by content, and
 *   `null == undefined` (both mean "nothing");
 * - type errors between present values (`'a' < 1`, `'a' * 2`) throw an ExpressionError.
 */

/** An error while evaluating an expression; `offset` is the 0-based index in the source it is about. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** A path an expression reads (`steps.alb.output.unhealthy`), with where each segment starts. */
export interface ReferenceSite {
  path: string[];
  /** 0-based offset in the source of each segment of `path`. */
  offsets: number[];
}

export interface CompiledExpression {
  readonly source: string;
  evaluate(context: Readonly<Record<string, unknown>>): unknown;
  /** Every path read, from a root name of the context, as segments; computed indexes end a path. */
  references(): string[][];
  /** The same paths, each with the offset of each segment (for validation errors). */
  referenceSites(): ReferenceSite[];
}

export type CompileResult = { ok: true; expr: CompiledExpression } | { ok: false; error: string; offset: number };

/** Names that would reach an object's prototype machinery: never readable. */
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const MAX_SOURCE_LENGTH = 4000;
const MAX_DEPTH = 64;

// ---------------------------------------------------------------------------------------------
// Tokens

type TokenKind = 'number' | 'string' | 'name' | 'punct' | 'end';
interface Token {
  kind: TokenKind;
  /** The punctuator or name text, or the literal's value. */
  text: string;
  value?: number | string;
  start: number;
  end: number;
}

class SyntaxProblem extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const PUNCTUATORS = ['&&', '||', '==', '!=', '<=', '>=', '(', ')', '[', ']', ',', '.', '?', ':', '!', '-', '+', '*', '/', '%', '<', '>'];
const NAME_START = /[A-Za-z_]/;
const NAME_PART = /[A-Za-z0-9_]/;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(ch)) {
      const m = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(source.slice(i))!;
      i += m[0].length;
      if (i < source.length && NAME_START.test(source[i])) throw new SyntaxProblem(`unexpected "${source[i]}" after the number ${m[0]}`, i);
      tokens.push({ kind: 'number', text: m[0], value: Number(m[0]), start, end: i });
      continue;
    }
    if (ch === "'" || ch === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= source.length) throw new SyntaxProblem(`this string is not closed: expected a closing ${ch}`, start);
        const c = source[i];
        if (c === ch) {
          i++;
          break;
        }
        if (c === '\\') {
          const next = source[i + 1];
          if (next === undefined) throw new SyntaxProblem(`this string is not closed: expected a closing ${ch}`, start);
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next;
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      tokens.push({ kind: 'string', text: source.slice(start, i), value, start, end: i });
      continue;
    }
    if (NAME_START.test(ch)) {
      // After ".", a name may contain "-" between name characters, as GitHub Actions allows
      // (`steps.check-alb.output`): step ids use "-". Subtraction is written with spaces there.
      const afterDot = tokens.length > 0 && tokens[tokens.length - 1].text === '.' && tokens[tokens.length - 1].kind === 'punct';
      i++;
      while (i < source.length && (NAME_PART.test(source[i]) || (afterDot && source[i] === '-' && NAME_PART.test(source[i + 1] ?? '')))) i++;
      tokens.push({ kind: 'name', text: source.slice(start, i), start, end: i });
      continue;
    }
    const three = source.slice(i, i + 3);
    if (three === '===' || three === '!==') {
      throw new SyntaxProblem(`"${three}" is not an operator: use "${three.slice(0, 2)}", which never converts types`, i);
    }
    const punct = PUNCTUATORS.find((p) => source.startsWith(p, i));
    if (punct) {
      i += punct.length;
      tokens.push({ kind: 'punct', text: punct, start, end: i });
      continue;
    }
    const hints: Record<string, string> = { '=': '; did you mean "=="?', '&': '; did you mean "&&"?', '|': '; did you mean "||"?' };
    if (ch === '$' && source.startsWith('${{', i)) throw new SyntaxProblem('"${{" starts a template, not an expression: write the expression alone', i);
    throw new SyntaxProblem(`unexpected character "${ch}"${hints[ch] ?? ''}`, i);
  }
  tokens.push({ kind: 'end', text: '', start: source.length, end: source.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Tree

type BinaryOp = '*' | '/' | '%' | '+' | '-' | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'in' | '&&' | '||';
type Node =
  | { t: 'literal'; value: unknown; start: number }
  | { t: 'array'; items: Node[]; start: number }
  | { t: 'root'; name: string; start: number }
  /** A member with a name known when parsed: `a.b`, `a['b']`, `a[0]`. */
  | { t: 'member'; object: Node; key: string | number; keyStart: number; start: number }
  /** A computed index: `a[b]`. */
  | { t: 'index'; object: Node; index: Node; start: number }
  | { t: 'unary'; op: '!' | '-'; operand: Node; start: number }
  | { t: 'binary'; op: BinaryOp; left: Node; right: Node; start: number }
  | { t: 'conditional'; test: Node; then: Node; otherwise: Node; start: number }
  | { t: 'call'; name: string; fn: FunctionSpec; args: Node[]; start: number };

/** Binding powers (higher binds tighter); all binary operators are left-associative. */
const INFIX: Record<string, number> = {
  '||': 20,
  '&&': 30,
  '==': 40,
  '!=': 40,
  '<': 50,
  '<=': 50,
  '>': 50,
  '>=': 50,
  in: 50,
  '+': 60,
  '-': 60,
  '*': 70,
  '/': 70,
  '%': 70,
};
const TERNARY_BP = 10;
const PREFIX_BP = 80;
const POSTFIX_BP = 90;

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    if (this.peek().kind === 'end') throw new SyntaxProblem('expected an expression, found nothing', 0);
    const node = this.expression(0);
    const next = this.peek();
    if (next.kind !== 'end') throw new SyntaxProblem(`unexpected ${describe(next)} after a complete expression`, next.start);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private next(): Token {
    return this.tokens[this.pos++];
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  private expect(text: string, context: string): Token {
    const t = this.peek();
    if (t.kind !== 'punct' || t.text !== text) throw new SyntaxProblem(`expected "${text}" ${context}, found ${describe(t)}`, t.start);
    return this.next();
  }

  private expression(minBp: number): Node {
    if (++this.depth > MAX_DEPTH) throw new SyntaxProblem('expression nested too deeply', this.peek().start);
    let left = this.prefix();
    for (;;) {
      const t = this.peek();
      const op = t.kind === 'punct' || (t.kind === 'name' && t.text === 'in') ? t.text : null;
      if (op === null) break;
      if (op === '.' || op === '[' || op === '(') {
        if (POSTFIX_BP <= minBp) break;
        left = this.postfix(left);
        continue;
      }
      if (op === '?') {
        if (TERNARY_BP <= minBp) break;
        this.next();
        const then = this.expression(0);
        this.expect(':', `in a conditional (the "?" at column ${t.start + 1})`);
        const otherwise = this.expression(TERNARY_BP - 1);
        left = { t: 'conditional', test: left, then, otherwise, start: t.start };
        continue;
      }
      const bp = INFIX[op];
      if (bp === undefined || bp <= minBp) break;
      this.next();
      if (this.peek().kind === 'end') throw new SyntaxProblem(`expected an operand after "${op}"`, this.peek().start);
      const right = this.expression(bp);
      left = { t: 'binary', op: op as BinaryOp, left, right, start: t.start };
    }
    this.depth--;
    return left;
  }

  private prefix(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'number':
        return { t: 'literal', value: t.value, start: t.start };
      case 'string':
        return { t: 'literal', value: t.value, start: t.start };
      case 'name':
        return this.name(t);
      case 'punct':
        if (t.text === '!' || t.text === '-') {
          const operand = this.expression(PREFIX_BP);
          return { t: 'unary', op: t.text, operand, start: t.start };
        }
        if (t.text === '(') {
          const inner = this.expression(0);
          const close = this.peek();
          if (close.kind !== 'punct' || close.text !== ')') {
            throw new SyntaxProblem(`expected ")" to close the "(" at column ${t.start + 1}, found ${describe(close)}`, close.start);
          }
          this.next();
          return inner;
        }
        if (t.text === '[') return this.arrayLiteral(t);
        throw new SyntaxProblem(`unexpected ${describe(t)}: expected a value, a name or "("`, t.start);
      case 'end':
        throw new SyntaxProblem('the expression ends too early: expected a value', t.start);
    }
  }

  private name(t: Token): Node {
    switch (t.text) {
      case 'true':
        return { t: 'literal', value: true, start: t.start };
      case 'false':
        return { t: 'literal', value: false, start: t.start };
      case 'null':
        return { t: 'literal', value: null, start: t.start };
      case 'in':
        throw new SyntaxProblem('unexpected "in": expected a value before it', t.start);
    }
    if (this.isPunct('(')) return this.call(t);
    if (FORBIDDEN_NAMES.has(t.text)) throw new SyntaxProblem(`"${t.text}" cannot be read`, t.start);
    return { t: 'root', name: t.text, start: t.start };
  }

  private call(nameToken: Token): Node {
    const fn = FUNCTIONS.get(nameToken.text);
    if (!fn) {
      throw new SyntaxProblem(`unknown function "${nameToken.text}" (the functions are ${[...FUNCTIONS.keys()].join(', ')})`, nameToken.start);
    }
    const open = this.next();
    const args: Node[] = [];
    if (!this.isPunct(')')) {
      for (;;) {
        args.push(this.expression(0));
        if (this.isPunct(',')) {
          this.next();
          continue;
        }
        const t = this.peek();
        if (!(t.kind === 'punct' && t.text === ')')) {
          throw new SyntaxProblem(`expected "," or ")" in the call of ${nameToken.text}() at column ${open.start + 1}, found ${describe(t)}`, t.start);
        }
        break;
      }
    }
    this.next();
    if (args.length < fn.min || args.length > fn.max) {
      const wanted = fn.min === fn.max ? `${fn.min}` : fn.max === Infinity ? `at least ${fn.min}` : `${fn.min} to ${fn.max}`;
      throw new SyntaxProblem(`${nameToken.text}() takes ${wanted} argument${wanted === '1' ? '' : 's'}, got ${args.length}`, nameToken.start);
    }
    return { t: 'call', name: nameToken.text, fn, args, start: nameToken.start };
  }

  private arrayLiteral(open: Token): Node {
    const items: Node[] = [];
    if (!this.isPunct(']')) {
      for (;;) {
        items.push(this.expression(0));
        if (this.isPunct(',')) {
          this.next();
          if (this.isPunct(']')) break; // trailing comma
          continue;
        }
        const t = this.peek();
        if (!(t.kind === 'punct' && t.text === ']')) {
          throw new SyntaxProblem(`expected "," or "]" in the list opened at column ${open.start + 1}, found ${describe(t)}`, t.start);
        }
        break;
      }
    }
    this.next();
    return { t: 'array', items, start: open.start };
  }

  private postfix(object: Node): Node {
    const t = this.next();
    if (t.text === '.') {
      const nameToken = this.peek();
      if (nameToken.kind !== 'name') throw new SyntaxProblem(`expected a property name after ".", found ${describe(nameToken)}`, nameToken.start);
      this.next();
      if (FORBIDDEN_NAMES.has(nameToken.text)) throw new SyntaxProblem(`"${nameToken.text}" cannot be read`, nameToken.start);
      if (this.isPunct('(')) throw new SyntaxProblem('methods cannot be called: only the built-in functions, such as len(x)', nameToken.start);
      return { t: 'member', object, key: nameToken.text, keyStart: nameToken.start, start: object.start };
    }
    if (t.text === '[') {
      const indexStart = this.peek().start;
      const index = this.expression(0);
      const close = this.peek();
      if (close.kind !== 'punct' || close.text !== ']') {
        throw new SyntaxProblem(`expected "]" to close the "[" at column ${t.start + 1}, found ${describe(close)}`, close.start);
      }
      this.next();
      if (index.t === 'literal' && (typeof index.value === 'string' || typeof index.value === 'number')) {
        if (typeof index.value === 'string' && FORBIDDEN_NAMES.has(index.value)) {
          throw new SyntaxProblem(`"${index.value}" cannot be read`, indexStart);
        }
        return { t: 'member', object, key: index.value, keyStart: indexStart, start: object.start };
      }
      return { t: 'index', object, index, start: object.start };
    }
    // "("
    throw new SyntaxProblem('only the built-in functions can be called, by name: len(x), not x()', t.start);
  }
}

function describe(t: Token): string {
  if (t.kind === 'end') return 'the end of the expression';
  if (t.kind === 'name') return `"${t.text}"`;
  if (t.kind === 'string') return `the string ${t.text}`;
  if (t.kind === 'number') return `the number ${t.text}`;
  return `"${t.text}"`;
}

// ---------------------------------------------------------------------------------------------
// Values

/** JavaScript truthiness: false, 0, NaN, '', null and undefined are false; everything else (even [] and {}) is true. */
export function isTruthy(value: unknown): boolean {
  return Boolean(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 30 ? `${value.slice(0, 30)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Equality without coercion; lists and objects by content; null and undefined are equal. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => valuesEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && valuesEqual(a[k], b[k]));
  }
  return false;
}

function readMember(object: unknown, key: unknown, at: number): unknown {
  if (typeof key !== 'string' && typeof key !== 'number') throw new ExpressionError(`an index must be a string or a number, got ${typeName(key)}`, at);
  if (typeof key === 'string' && FORBIDDEN_NAMES.has(key)) throw new ExpressionError(`"${key}" cannot be read`, at);
  // Only objects and lists have members; a string's or number's own properties are not data.
  if (typeof object !== 'object' || object === null) return undefined;
  return Object.hasOwn(object, key) ? (object as Record<string | number, unknown>)[key] : undefined;
}

function contains(haystack: unknown, needle: unknown, at: number, what: string): boolean {
  if (haystack == null) return false;
  if (Array.isArray(haystack)) return haystack.some((x) => valuesEqual(x, needle));
  if (typeof haystack === 'string') {
    if (needle == null) return false;
    if (typeof needle !== 'string') throw new ExpressionError(`${what}: looking for ${typeName(needle)} in a string; expected a string`, at);
    return haystack.includes(needle);
  }
  if (isObject(haystack)) {
    if (typeof needle !== 'string') return false;
    return Object.hasOwn(haystack, needle) && !FORBIDDEN_NAMES.has(needle);
  }
  throw new ExpressionError(`${what}: expected a list, a string or an object to look in, got ${typeName(haystack)}`, at);
}

function number(value: unknown, at: number, what: string): number {
  if (typeof value !== 'number') throw new ExpressionError(`${what} expects a number, got ${typeName(value)}`, at);
  return value;
}

function string(value: unknown, at: number, what: string): string {
  if (typeof value !== 'string') throw new ExpressionError(`${what} expects a string, got ${typeName(value)}`, at);
  return value;
}

function list(value: unknown, at: number, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ExpressionError(`${what} expects a list, got ${typeName(value)}`, at);
  return value;
}

function timestamp(value: unknown, at: number, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : NaN;
  if (Number.isNaN(ms)) throw new ExpressionError(`${what} expects ISO 8601 timestamps, got ${typeName(value)}`, at);
  return ms;
}

interface FunctionSpec {
  min: number;
  max: number;
  /** Arguments arrive evaluated; `at` is the call's offset, for errors. */
  call(args: unknown[], at: number): unknown;
}

const rounding = (name: string, f: (x: number) => number): FunctionSpec => ({
  min: 1,
  max: 1,
  call: ([x], at) => (x == null ? undefined : f(number(x, at, `${name}()`))),
});

const extreme = (name: string, pick: (...xs: number[]) => number): FunctionSpec => ({
  min: 1,
  max: Infinity,
  call: (args, at) => {
    const values = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
    if (values.some((v) => v == null)) return undefined;
    if (values.length === 0) return undefined;
    return pick(...values.map((v) => number(v, at, `${name}()`)));
  },
});

/** The only functions an expression can call. Null-safe: a missing argument gives a neutral answer. */
const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  [
    'len',
    {
      min: 1,
      max: 1,
      call: ([x], at) => {
        if (x == null) return 0;
        if (typeof x === 'string' || Array.isArray(x)) return x.length;
        if (isObject(x)) return Object.keys(x).length;
        throw new ExpressionError(`len() expects a string, a list or an object, got ${typeName(x)}`, at);
      },
    },
  ],
  ['contains', { min: 2, max: 2, call: ([h, n], at) => contains(h, n, at, 'contains()') }],
  ['startsWith', { min: 2, max: 2, call: ([s, p], at) => (s == null ? false : string(s, at, 'startsWith()').startsWith(string(p, at, 'startsWith()'))) }],
  ['endsWith', { min: 2, max: 2, call: ([s, p], at) => (s == null ? false : string(s, at, 'endsWith()').endsWith(string(p, at, 'endsWith()'))) }],
  ['lower', { min: 1, max: 1, call: ([s], at) => (s == null ? s : string(s, at, 'lower()').toLowerCase()) }],
  ['upper', { min: 1, max: 1, call: ([s], at) => (s == null ? s : string(s, at, 'upper()').toUpperCase()) }],
  ['min', extreme('min', Math.min)],
  ['max', extreme('max', Math.max)],
  ['ceil', rounding('ceil', Math.ceil)],
  ['floor', rounding('floor', Math.floor)],
  ['round', rounding('round', Math.round)],
  [
    'minutesBetween',
    {
      min: 2,
      max: 2,
      call: ([a, b], at) => (a == null || b == null ? undefined : (timestamp(b, at, 'minutesBetween()') - timestamp(a, at, 'minutesBetween()')) / 60_000),
    },
  ],
  ['default', { min: 2, max: 2, call: ([x, fallback]) => (x == null ? fallback : x) }],
  [
    'join',
    {
      min: 1,
      max: 2,
      call: ([xs, sep], at) => {
        if (xs == null) return '';
        const separator = sep === undefined ? ', ' : string(sep, at, 'join()');
        return list(xs, at, 'join()')
          .map((x) => (x == null ? '' : typeof x === 'object' ? JSON.stringify(x) : String(x as string | number | boolean)))
          .join(separator);
      },
    },
  ],
  [
    'keys',
    {
      min: 1,
      max: 1,
      call: ([o], at) => {
        if (o == null) return [];
        if (!isObject(o)) throw new ExpressionError(`keys() expects an object, got ${typeName(o)}`, at);
        return Object.keys(o);
      },
    },
  ],
  ['any', { min: 1, max: 1, call: ([xs], at) => (xs == null ? false : list(xs, at, 'any()').some(isTruthy)) }],
  // all() of nothing is false, not vacuously true: a missing output must not pass a check.
  ['all', { min: 1, max: 1, call: ([xs], at) => (xs == null ? false : list(xs, at, 'all()').every(isTruthy)) }],
  ['count', { min: 1, max: 1, call: ([xs], at) => (xs == null ? 0 : list(xs, at, 'count()').filter(isTruthy).length) }],
]);

/** The names of the functions expressions may call. */
export const EXPRESSION_FUNCTIONS: readonly string[] = [...FUNCTIONS.keys()];

// ---------------------------------------------------------------------------------------------
// Evaluation

function evaluate(node: Node, ctx: Readonly<Record<string, unknown>>): unknown {
  switch (node.t) {
    case 'literal':
      return node.value;
    case 'array':
      return node.items.map((item) => evaluate(item, ctx));
    case 'root':
      return Object.hasOwn(ctx, node.name) ? ctx[node.name] : undefined;
    case 'member':
      return readMember(evaluate(node.object, ctx), node.key, node.keyStart);
    case 'index':
      return readMember(evaluate(node.object, ctx), evaluate(node.index, ctx), node.index.start);
    case 'unary': {
      const v = evaluate(node.operand, ctx);
      if (node.op === '!') return !isTruthy(v);
      return v == null ? undefined : -number(v, node.start, 'unary "-"');
    }
    case 'conditional':
      return isTruthy(evaluate(node.test, ctx)) ? evaluate(node.then, ctx) : evaluate(node.otherwise, ctx);
    case 'call':
      return node.fn.call(
        node.args.map((a) => evaluate(a, ctx)),
        node.start,
      );
    case 'binary':
      return binary(node, ctx);
  }
}

function binary(node: Extract<Node, { t: 'binary' }>, ctx: Readonly<Record<string, unknown>>): unknown {
  const { op, start: at } = node;
  if (op === '&&') return isTruthy(evaluate(node.left, ctx)) && isTruthy(evaluate(node.right, ctx));
  if (op === '||') return isTruthy(evaluate(node.left, ctx)) || isTruthy(evaluate(node.right, ctx));
  const l = evaluate(node.left, ctx);
  const r = evaluate(node.right, ctx);
  switch (op) {
    case '==':
      return valuesEqual(l, r);
    case '!=':
      return !valuesEqual(l, r);
    case 'in':
      return contains(r, l, at, '"in"');
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (l == null || r == null) return false;
      if (!((typeof l === 'number' && typeof r === 'number') || (typeof l === 'string' && typeof r === 'string'))) {
        throw new ExpressionError(`"${op}" compares two numbers or two strings, got ${typeName(l)} and ${typeName(r)}`, at);
      }
      return op === '<' ? l < r : op === '<=' ? l <= r : op === '>' ? l > r : l >= r;
    }
    case '+': {
      if (l == null || r == null) return undefined;
      if (typeof l === 'number' && typeof r === 'number') return l + r;
      const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
      if ((typeof l === 'string' || typeof r === 'string') && scalar(l) && scalar(r)) return String(l) + String(r);
      throw new ExpressionError(`"+" adds two numbers or joins strings, got ${typeName(l)} and ${typeName(r)}`, at);
    }
    default: {
      if (l == null || r == null) return undefined;
      const a = number(l, at, `"${op}"`);
      const b = number(r, at, `"${op}"`);
      if ((op === '/' || op === '%') && b === 0) throw new ExpressionError(`division by zero in "${op}"`, at);
      return op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : a % b;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// References

function collectReferences(node: Node, out: ReferenceSite[]): void {
  switch (node.t) {
    case 'literal':
      return;
    case 'array':
      node.items.forEach((n) => collectReferences(n, out));
      return;
    case 'root':
    case 'member': {
      const path: string[] = [];
      const offsets: number[] = [];
      let n: Node = node;
      while (n.t === 'member') {
        path.unshift(String(n.key));
        offsets.unshift(n.keyStart);
        n = n.object;
      }
      if (n.t === 'root') {
        out.push({ path: [n.name, ...path], offsets: [n.start, ...offsets] });
      } else {
        collectReferences(n, out);
      }
      return;
    }
    case 'index':
      collectReferences(node.object, out);
      collectReferences(node.index, out);
      return;
    case 'unary':
      collectReferences(node.operand, out);
      return;
    case 'binary':
      collectReferences(node.left, out);
      collectReferences(node.right, out);
      return;
    case 'conditional':
      collectReferences(node.test, out);
      collectReferences(node.then, out);
      collectReferences(node.otherwise, out);
      return;
    case 'call':
      node.args.forEach((n) => collectReferences(n, out));
      return;
  }
}

/**
 * Parses an expression once; the result evaluates it any number of times. Never throws: a source
 * that does not parse gives `{ ok: false, error, offset }` with the 0-based offset of the problem.
 */
export function compileExpression(source: string): CompileResult {
  if (source.length > MAX_SOURCE_LENGTH) return { ok: false, error: `expression longer than ${MAX_SOURCE_LENGTH} characters`, offset: MAX_SOURCE_LENGTH };
  let root: Node;
  try {
    root = new Parser(tokenize(source)).parse();
  } catch (err) {
    if (err instanceof SyntaxProblem) return { ok: false, error: err.message, offset: err.offset };
    throw err;
  }
  const sites: ReferenceSite[] = [];
  collectReferences(root, sites);
  const seen = new Set<string>();
  const unique = sites.filter((s) => {
    const key = s.path.join('\u0000');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const expr: CompiledExpression = {
    source,
    evaluate: (context) => evaluate(root, context),
    references: () => unique.map((s) => [...s.path]),
    referenceSites: () => sites.map((s) => ({ path: [...s.path], offsets: [...s.offsets] })),
  };
  return { ok: true, expr };
}
