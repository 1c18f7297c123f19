import fc from 'fast-check';
import { EXPRESSION_FUNCTIONS, ExpressionError, compileExpression } from './expression';

/**
 * Properties of the runbook expression language: compiling never throws (a bad source is a result
 * with an offset inside it), evaluating throws nothing but ExpressionError, and printed values and
 * trees read back as what they were.
 */

const TOKENS = ['&&', '||', '==', '!=', '<=', '>=', '(', ')', '[', ']', ',', '.', '?', ':', '!', '-', '+', '*', '/', '%', '<', '>', '=', '===', '&', '|', '${{', '}}', ' ', "'", '"', '\\', 'in', 'true', 'false', 'null', '__proto__', 'constructor', 'prototype', 'steps', 'alb', 'output', 'check-alb', '0', '1.5e3', '9e999', "'x'", '"y"', ...EXPRESSION_FUNCTIONS];
/** Token soup: sources close enough to the grammar to reach deep into the parser. */
const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((parts) => parts.join(''));
const anySource = fc.oneof(soup, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('('.repeat(200), '!'.repeat(500), '-'.repeat(500) + '1', 'a'.repeat(5000), '['.repeat(65) + ']'.repeat(65)));

const context = fc.dictionary(fc.constantFrom('steps', 'alb', 'output', 'service', 'incident', 'now', 'mode', 'x', 'in'), fc.jsonValue({ maxDepth: 4 }));

describe('compileExpression, for any source', () => {
  it('never throws: a bad source is a result with an error and an offset inside the source', () => {
    fc.assert(
      fc.property(anySource, (source) => {
        const r = compileExpression(source);
        if (!r.ok) {
          expect(r.error.length).toBeGreaterThan(0);
          expect(r.offset).toBeGreaterThanOrEqual(0);
          expect(r.offset).toBeLessThanOrEqual(source.length);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('evaluates a compiled expression on any context, throwing nothing but ExpressionError', () => {
    fc.assert(
      fc.property(soup, context, (source, ctx) => {
        const r = compileExpression(source);
        if (!r.ok) return;
        try {
          r.expr.evaluate(ctx);
          r.expr.references();
        } catch (err) {
          expect(err).toBeInstanceOf(ExpressionError);
          expect((err as ExpressionError).offset).toBeGreaterThanOrEqual(0);
          expect((err as ExpressionError).offset).toBeLessThanOrEqual(source.length);
        }
        // Nothing an expression reads reaches a prototype.
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });
});

/** A value as the expression language writes it. */
function literal(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}'`;
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  return JSON.stringify(value);
}
const literalValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.nat(), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.array(tie('v'), { maxLength: 4 })),
})).v;

const RESERVED = new Set(['true', 'false', 'null', 'in', '__proto__', 'constructor', 'prototype']);
const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/).filter((n) => !RESERVED.has(n));

describe('expressions read back what they print', () => {
  it('a printed literal (null, booleans, numbers, any string, nested lists) evaluates to itself', () => {
    fc.assert(
      fc.property(literalValue, (value) => {
        const r = compileExpression(literal(value));
        if (!r.ok) throw new Error(`${literal(value)}: ${r.error}`);
        expect(r.expr.evaluate({})).toEqual(value);
      }),
      { numRuns: 1000 },
    );
  });

  it('a path reads the value at that path, and is the one reference', () => {
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 6 }), fc.jsonValue(), (path, value) => {
        const ctx = path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
        const r = compileExpression(path.join('.'));
        if (!r.ok) throw new Error(`${path.join('.')}: ${r.error}`);
        expect(r.expr.evaluate(ctx)).toEqual(value);
        expect(r.expr.references()).toEqual([path]);
        // The same path through something missing is undefined, not a throw.
        expect(r.expr.evaluate({})).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  type Tree = { n: number } | { op: '+' | '-' | '*'; l: Tree; r: Tree } | { neg: Tree };
  const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
    t: fc.oneof(
      { depthSize: 'small', maxDepth: 8 },
      fc.integer({ min: 0, max: 1000 }).map((n) => ({ n })),
      fc.record({ op: fc.constantFrom('+' as const, '-' as const, '*' as const), l: tie('t'), r: tie('t') }),
      fc.record({ neg: tie('t') }),
    ),
  })).t;
  const print = (t: Tree): string => ('n' in t ? String(t.n) : 'neg' in t ? `-(${print(t.neg)})` : `(${print(t.l)} ${t.op} ${print(t.r)})`);
  const value = (t: Tree): number => ('n' in t ? t.n : 'neg' in t ? -value(t.neg) : t.op === '+' ? value(t.l) + value(t.r) : t.op === '-' ? value(t.l) - value(t.r) : value(t.l) * value(t.r));

  it('integer arithmetic, fully parenthesised, evaluates as JavaScript would, and comparisons agree', () => {
    fc.assert(
      fc.property(tree, tree, (a, b) => {
        const r = compileExpression(print(a));
        if (!r.ok) throw new Error(`${print(a)}: ${r.error}`);
        // `+ 0` on both sides: -0 and 0 are the same number here.
        expect((r.expr.evaluate({}) as number) + 0).toBe(value(a) + 0);
        const cmp = compileExpression(`${print(a)} < ${print(b)} && !(${print(a)} == ${print(b)}) || ${print(a)} >= ${print(b)}`);
        if (!cmp.ok) throw new Error(cmp.error);
        expect(cmp.expr.evaluate({})).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
