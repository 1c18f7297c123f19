import fc from 'fast-check';
import { ExpressionError } from './expression';
import { compileTemplate } from './template';

/**
 * Properties of step templates: compiling never throws (a bad template is a result naming where),
 * rendering throws nothing but ExpressionError, a value without `${{` renders to itself, and a
 * whole `${{ x }}` keeps the value's type.
 */

const PIECES = ['${{', '}}', '${{ x }}', '${{ steps.alb.output }}', "${{ 'a}}b' }}", '${{ }}', '${{ x +', '$', '{', '}', "'", '"', '\\', ' ', 'x', 'steps', '.', 'len(', ')', '__proto__', 'constructor'];
const templateString = fc.oneof(fc.array(fc.constantFrom(...PIECES), { maxLength: 20 }).map((p) => p.join('')), fc.string({ maxLength: 60 }));
const templated: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    templateString,
    fc.jsonValue({ maxDepth: 1 }),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'toString')), tie('v'), { maxKeys: 4 }),
  ),
})).v;
const context = fc.dictionary(fc.constantFrom('x', 'steps', 'incident', 'service'), fc.jsonValue({ maxDepth: 3 }));

/** Whether any string in the value holds a template opening. */
const hasTemplate = (v: unknown): boolean =>
  typeof v === 'string' ? v.includes('${{') : Array.isArray(v) ? v.some(hasTemplate) : v !== null && typeof v === 'object' ? Object.values(v).some(hasTemplate) : false;

describe('compileTemplate, for any value', () => {
  it('never throws, and renders on any context throwing nothing but ExpressionError', () => {
    fc.assert(
      fc.property(templated, context, (value, ctx) => {
        const r = compileTemplate(value);
        if (!r.ok) {
          expect(r.offset).toBeGreaterThanOrEqual(0);
          expect(Array.isArray(r.path)).toBe(true);
          return;
        }
        try {
          r.template.render(ctx);
        } catch (err) {
          expect(err).toBeInstanceOf(ExpressionError);
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('renders a value without "${{" to an equal value, whatever its keys', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), templated.filter((v) => !hasTemplate(v))), (value) => {
        const r = compileTemplate(value);
        if (!r.ok) throw new Error(r.error);
        const rendered = r.template.render({});
        // toEqual, not toStrictEqual: a null-prototype object may render to a plain one; every own
        // key (a "__proto__" one too) must survive.
        expect(rendered).toEqual(value);
        expect(JSON.stringify(rendered)).toBe(JSON.stringify(value));
        expect(r.template.references()).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('rendering a value', () => {
  it('keeps the type of a whole "${{ x }}", and interpolates a string into text as it is', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ maxLength: 20 }).filter((s) => !s.includes('${{')), fc.string({ maxLength: 20 }).filter((s) => !s.includes('${{')), (x, before, after) => {
        const whole = compileTemplate({ value: '  ${{ x }} ' });
        if (!whole.ok) throw new Error(whole.error);
        expect(whole.template.render({ x })).toStrictEqual({ value: x });
        const text = compileTemplate(`${before}-\${{ x }}-${after}`);
        if (!text.ok) throw new Error(text.error);
        const shown = x === null ? '' : typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? String(x) : JSON.stringify(x);
        expect(text.template.render({ x })).toBe(`${before}-${shown}-${after}`);
      }),
      { numRuns: 500 },
    );
  });
});
