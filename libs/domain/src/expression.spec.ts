import { type CompiledExpression, EXPRESSION_FUNCTIONS, ExpressionError, compileExpression } from './expression';

function compile(source: string): CompiledExpression {
  const r = compileExpression(source);
  if (!r.ok) throw new Error(`${source}: ${r.error} at ${r.offset}`);
  return r.expr;
}

const context = {
  steps: {
    alb: { status: 'succeeded', output: { unhealthy: 3, targets: ['a', 'b'], byZone: { 'us-east-1a': 2 } } },
    'check-logs': { status: 'skipped' },
  },
  service: { name: 'checkout', limits: { maxTasks: 24 }, logGroups: ['/ecs/prod/checkout'] },
  incident: { onsetAt: '2026-11-20T17:00:00.000Z' },
  now: '2026-11-20T17:45:30.000Z',
  mode: 'live',
  nothing: null,
};
const evaluate = (source: string, ctx: Record<string, unknown> = context): unknown => compile(source).evaluate(ctx);

function failure(source: string): { error: string; offset: number } {
  const r = compileExpression(source);
  if (r.ok) throw new Error(`${source} parsed`);
  return { error: r.error, offset: r.offset };
}

describe('expressions', () => {
  describe('literals and paths', () => {
    it.each([
      ['42', 42],
      ['1.5e2', 150],
      ["'single'", 'single'],
      ['"double"', 'double'],
      ["'it\\'s'", "it's"],
      ['true', true],
      ['false', false],
      ['null', null],
      ["[1, 'a', [true]]", [1, 'a', [true]]],
      ['[]', []],
    ])('reads %s', (source, value) => {
      expect(evaluate(source)).toEqual(value);
    });

    it('reads dotted paths, indexes and quoted keys', () => {
      expect(evaluate('steps.alb.output.unhealthy')).toBe(3);
      expect(evaluate('steps.alb.output.targets[1]')).toBe('b');
      expect(evaluate("steps.alb.output.byZone['us-east-1a']")).toBe(2);
      expect(evaluate('steps["alb"].status')).toBe('succeeded');
      expect(evaluate('service.logGroups[0]')).toBe('/ecs/prod/checkout');
    });

    it('reads a step id with "-" after a dot, as GitHub Actions does', () => {
      expect(evaluate('steps.check-logs.status')).toBe('skipped');
      expect(evaluate('steps.alb.output.unhealthy - 1')).toBe(2);
    });

    it('computes an index', () => {
      expect(evaluate("steps[service.name == 'checkout' ? 'alb' : 'x'].status")).toBe('succeeded');
      expect(evaluate('steps.alb.output.targets[len(steps.alb.output.targets) - 1]')).toBe('b');
    });
  });

  describe('null safety', () => {
    it('gives undefined for a path through something missing, never a throw', () => {
      expect(evaluate('steps.deploy.output.id')).toBeUndefined();
      expect(evaluate('nothing.a.b.c')).toBeUndefined();
      expect(evaluate('missing[0].x')).toBeUndefined();
      expect(evaluate('service.name.length')).toBeUndefined();
    });

    it('makes a condition on a missing output false', () => {
      expect(evaluate('steps.deploy.output.minutes <= service.limits.maxTasks')).toBe(false);
      expect(evaluate('steps.deploy.output.minutes * 2 > 3')).toBe(false);
      expect(evaluate('steps.deploy.output.correlated == true')).toBe(false);
      expect(evaluate("'x' in steps.deploy.output.ids")).toBe(false);
    });

    it('treats null and undefined as equal (both are "nothing")', () => {
      expect(evaluate('steps.deploy.output == null')).toBe(true);
      expect(evaluate('nothing == null')).toBe(true);
    });
  });

  describe('operators', () => {
    it.each([
      ['!true', false],
      ['!steps.deploy', true],
      ['-3', -3],
      ['- -3', 3],
      ['7 * 3', 21],
      ['7 / 2', 3.5],
      ['7 % 3', 1],
      ['1 + 2', 3],
      ["'a' + 'b'", 'ab'],
      ["'tasks: ' + 4", 'tasks: 4'],
      ['5 - 7', -2],
      ['1 < 2', true],
      ['2 <= 2', true],
      ['1 > 2', false],
      ['2 >= 3', false],
      ["'2026-01-02' > '2026-01-01'", true],
      ['1 == 1', true],
      ["1 == '1'", false],
      ['1 != 2', true],
      ['[1, [2]] == [1, [2]]', true],
      ["'b' in ['a', 'b']", true],
      ["'heck' in 'checkout'", true],
      ["'us-east-1a' in steps.alb.output.byZone", true],
      ["'toString' in steps.alb.output.byZone", false],
      ['true && false', false],
      ['false || true', true],
      ['true ? 1 : 2', 1],
      ['false ? 1 : 2', 2],
    ])('%s is %p', (source, value) => {
      expect(evaluate(source)).toEqual(value);
    });

    it('returns booleans from && and ||, not an operand', () => {
      expect(evaluate("'a' || 'b'")).toBe(true);
      expect(evaluate('0 && 1')).toBe(false);
      expect(evaluate("'' || null")).toBe(false);
    });

    it('short-circuits && and ||', () => {
      // The right side would throw ('a' < 1) if it were evaluated.
      expect(evaluate("false && 'a' < 1")).toBe(false);
      expect(evaluate("true || 'a' < 1")).toBe(true);
      expect(evaluate("true ? 1 : 'a' < 1")).toBe(1);
    });

    it('binds in the usual order', () => {
      expect(evaluate('1 + 2 * 3')).toBe(7);
      expect(evaluate('(1 + 2) * 3')).toBe(9);
      expect(evaluate('10 - 4 - 3')).toBe(3);
      expect(evaluate('12 / 3 / 2')).toBe(2);
      expect(evaluate('-2 * 3')).toBe(-6);
      expect(evaluate('1 + 1 == 2')).toBe(true);
      expect(evaluate('1 < 2 == true')).toBe(true);
      expect(evaluate('!false && false')).toBe(false);
      expect(evaluate('true || false && false')).toBe(true);
      expect(evaluate('false && false || true')).toBe(true);
      expect(evaluate('1 + 1 in [2]')).toBe(true);
      expect(evaluate('false ? 1 : true ? 2 : 3')).toBe(2);
      expect(evaluate('1 < 2 ? 1 + 1 : 0')).toBe(2);
      // "!" binds tighter than comparison, as in JavaScript: this compares a boolean with 0.
      expect(() => evaluate('!steps.alb.output.unhealthy > 0')).toThrow('got boolean false and number 0');
      expect(evaluate('!(steps.alb.output.unhealthy > 0)')).toBe(false);
    });

    it('throws an ExpressionError for a type error between present values', () => {
      expect(() => evaluate("'a' < 1")).toThrow(ExpressionError);
      expect(() => evaluate("'a' < 1")).toThrow('"<" compares two numbers or two strings, got the string "a" and number 1');
      expect(() => evaluate("'a' * 2")).toThrow('"*" expects a number');
      expect(() => evaluate('[1] + 1')).toThrow('"+" adds two numbers or joins strings');
      expect(() => evaluate('1 / 0')).toThrow('division by zero');
      expect(() => evaluate('1 in 5')).toThrow('expected a list, a string or an object');
      try {
        evaluate('1 + (true < 2)');
      } catch (err) {
        expect(err).toBeInstanceOf(ExpressionError);
        expect((err as ExpressionError).offset).toBe(10);
      }
    });
  });

  describe('functions', () => {
    it.each([
      ['len(steps.alb.output.targets)', 2],
      ["len('abc')", 3],
      ['len(steps.alb.output.byZone)', 1],
      ['len(steps.deploy)', 0],
      ["contains(service.name, 'out')", true],
      ['contains(steps.alb.output.targets, "c")', false],
      ["startsWith(service.name, 'check')", true],
      ["endsWith(service.name, 'x')", false],
      ["startsWith(steps.deploy.id, 'x')", false],
      ["lower('AbC')", 'abc'],
      ["upper('AbC')", 'ABC'],
      ['min(3, 2)', 2],
      ['max(3, 2, 8)', 8],
      ['max([1, 5])', 5],
      ['ceil(2.1)', 3],
      ['floor(2.9)', 2],
      ['round(2.5)', 3],
      ['minutesBetween(incident.onsetAt, now)', 45.5],
      ['minutesBetween(steps.deploy.output.at, now)', undefined],
      ["default(steps.deploy.output.id, 'none')", 'none'],
      ["default(0, 'none')", 0],
      ["join(steps.alb.output.targets, '+')", 'a+b'],
      ['join([1, null, "x"])', '1, , x'],
      ['keys(steps.alb.output.byZone)', ['us-east-1a']],
      ['any([0, 1])', true],
      ['any([])', false],
      ['all([1, true])', true],
      ['all(steps.deploy.output.checks)', false],
      ["count([1, 0, 'x', null])", 2],
    ])('%s is %p', (source, value) => {
      expect(evaluate(source)).toEqual(value);
    });

    it('lists its functions', () => {
      expect([...EXPRESSION_FUNCTIONS].sort()).toEqual(
        ['all', 'any', 'ceil', 'contains', 'count', 'default', 'endsWith', 'floor', 'join', 'keys', 'len', 'lower', 'max', 'min', 'minutesBetween', 'round', 'startsWith', 'upper'].sort(),
      );
    });

    it('rejects a function that is not in the table, and a wrong number of arguments, when parsed', () => {
      expect(failure('exec(1)')).toEqual({ offset: 0, error: expect.stringContaining('unknown function "exec"') });
      expect(failure('1 + require("fs")')).toMatchObject({ offset: 4 });
      expect(failure('len(1, 2)')).toEqual({ offset: 0, error: 'len() takes 1 argument, got 2' });
      expect(failure('default(1)').error).toBe('default() takes 2 arguments, got 1');
    });

    it('calls nothing else: no methods, no calls of values', () => {
      expect(failure("service.name.toUpperCase()")).toMatchObject({ offset: 13, error: expect.stringContaining('methods cannot be called') });
      expect(failure('(len)(1)').error).toContain('only the built-in functions can be called');
      expect(failure('steps.alb.output.targets[0]()').error).toContain('only the built-in functions can be called');
    });
  });

  describe('prototype access', () => {
    it.each([
      ['a.constructor', 2],
      ['a.__proto__', 2],
      ['a.prototype', 2],
      ["a['__proto__']", 2],
      ['a["constructor"]', 2],
      ['constructor', 0],
      ['__proto__.x', 0],
      ['len(a).constructor', 7],
    ])('rejects %s when parsed', (source, offset) => {
      expect(failure(source)).toEqual({ offset, error: expect.stringMatching(/^"(constructor|__proto__|prototype)" cannot be read$/) });
    });

    it('refuses a computed index that names them, and reads own properties only', () => {
      expect(() => evaluate("steps[lower('__PROTO__')]")).toThrow('"__proto__" cannot be read');
      expect(() => evaluate("steps['con' + 'structor']")).toThrow('"constructor" cannot be read');
      expect(evaluate("steps.alb.output['hasOwnProperty']")).toBeUndefined();
      expect(evaluate("steps.alb.output.targets['map']")).toBeUndefined();
      expect(evaluate('toString')).toBeUndefined();
      const inherited = Object.create({ secret: 1 }) as Record<string, unknown>;
      expect(evaluate('o.secret', { o: inherited })).toBeUndefined();
    });
  });

  describe('syntax errors', () => {
    it.each([
      ['steps.alb.output. > 3', 18, 'expected a property name after ".", found ">"'],
      ['(1 + 2', 6, 'expected ")" to close the "(" at column 1, found the end of the expression'],
      ['len(1', 5, 'expected "," or ")" in the call of len() at column 4, found the end of the expression'],
      ['[1, 2', 5, 'expected "," or "]" in the list opened at column 1, found the end of the expression'],
      ["'open", 0, 'this string is not closed'],
      ['1 +', 3, 'expected an operand after "+"'],
      ['a = 1', 2, 'unexpected character "="; did you mean "=="?'],
      ['a === 1', 2, 'use "=="'],
      ['a & b', 2, 'did you mean "&&"?'],
      ['a b', 2, 'unexpected "b" after a complete expression'],
      ['', 0, 'expected an expression, found nothing'],
      ['true ? 1', 8, 'expected ":" in a conditional'],
      ['1 ? : 2', 4, 'unexpected ":"'],
      ['a.1', 2, 'expected a property name after ".", found the number'],
      ['${{ a }}', 0, 'starts a template'],
      ['x in', 4, 'expected an operand after "in"'],
      ['#', 0, 'unexpected character "#"'],
    ])('%p fails at %d', (source, offset, message) => {
      const f = failure(source);
      expect(f.error).toContain(message);
      expect(f.offset).toBe(offset);
    });

    it('refuses absurdly deep nesting instead of overflowing the stack', () => {
      expect(failure(`${'('.repeat(200)}1${')'.repeat(200)}`).error).toBe('expression nested too deeply');
    });
  });

  describe('references', () => {
    it('lists every path read, once, as segments', () => {
      const expr = compile('steps.alb.output.unhealthy > service.limits.maxTasks && steps.alb.output.unhealthy > 0 && len(alarms) > 0');
      expect(expr.references()).toEqual([['steps', 'alb', 'output', 'unhealthy'], ['service', 'limits', 'maxTasks'], ['alarms']]);
    });

    it('ends a path at a computed index and lists the index', () => {
      expect(compile("a.b[c.d].e['f'][0]").references()).toEqual([
        ['a', 'b'],
        ['c', 'd'],
      ]);
      expect(compile("a['x y'][2]").references()).toEqual([['a', 'x y', '2']]);
    });

    it('gives the offset of each segment', () => {
      expect(compile('1 + steps.check-alb.output').referenceSites()).toEqual([{ path: ['steps', 'check-alb', 'output'], offsets: [4, 10, 20] }]);
    });

    it('keeps its source', () => {
      expect(compile(' a == 1 ').source).toBe(' a == 1 ');
    });
  });
});
