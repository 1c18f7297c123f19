import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ALARM_STATES, parseAlarmEvent } from './alarm-event';

/** Properties of the event validator: it never throws, says briefly what is wrong, and keeps what it is given. */

const fixture = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'ok', 'metric-alarm.json'), 'utf8')) as Record<string, unknown>;
const clone = (): Record<string, unknown> => structuredClone(fixture);

/** Every path to a value in a JSON tree (objects and arrays), the root excluded. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...paths(v, [...prefix, i])]);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
  return [];
}
const FIXTURE_PATHS = paths(fixture);

function setAt(obj: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let o = obj as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  if (value === undefined) delete o[path[path.length - 1]];
  else o[path[path.length - 1]] = value;
}

const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.anything({ maxDepth: 3, withBoxedValues: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true }),
  fc.string({ unit: 'binary', maxLength: 2000 }),
  fc.constantFrom(undefined, NaN, Infinity, -0, '', '__proto__', 'constructor', 'ALARM ', '1e400'),
);

describe('parseAlarmEvent, for any input', () => {
  it('never throws, and reports each problem as a located, short line', () => {
    fc.assert(
      fc.property(fc.oneof(hostileValue, fc.dictionary(fc.string(), hostileValue)), (body) => {
        const parsed = parseAlarmEvent(body);
        if (!parsed.ok) {
          expect(parsed.problems.length).toBeGreaterThan(0);
          for (const p of parsed.problems) {
            expect(typeof p.path).toBe('string');
            expect(p.message.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on a real event with one value replaced or removed, and never echoes a long value back', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIXTURE_PATHS), hostileValue, (path, value) => {
        const body = clone();
        setAt(body, path, value);
        const parsed = parseAlarmEvent(body);
        if (!parsed.ok) for (const p of parsed.problems) expect(p.message.length).toBeLessThan(300);
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves Object.prototype alone whatever keys an event carries', () => {
    fc.assert(
      fc.property(fc.constantFrom('"detail":{', '"state":{', '"metric":{', '{'), fc.constantFrom('__proto__', 'constructor', 'prototype'), (at, key) => {
        // JSON.parse makes "__proto__" an own key, as Express's body parser does.
        const text = JSON.stringify(clone()).replace(at, `${at}"${key}":{"polluted":true,"alarmName":"x","prototype":{"polluted":true}},`);
        parseAlarmEvent(JSON.parse(text));
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 50 },
    );
  });
});

describe('parseAlarmEvent, for any valid event', () => {
  // Names CloudWatch accepts: 1-255 characters, no control characters, any Unicode.
  const alarmName = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }).filter((s) => s.length <= 255 && ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f));
  const when = fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2099-12-31T23:59:59Z') });

  it('keeps the name, state, account, region and times it was given (a round trip)', () => {
    fc.assert(
      fc.property(
        alarmName,
        fc.constantFrom(...ALARM_STATES),
        fc.stringMatching(/^\d{12}$/),
        fc.constantFrom('us-east-1', 'eu-west-3', 'ap-southeast-2', 'us-gov-west-1'),
        when,
        fc.string({ maxLength: 1023 }),
        (name, state, account, region, at, reason) => {
          const body = clone();
          const detail = body.detail as Record<string, Record<string, unknown>>;
          body.account = account;
          body.region = region;
          body.time = new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
          body.resources = [];
          (detail as Record<string, unknown>).alarmName = name;
          detail.state.value = state;
          detail.state.reason = reason;
          detail.state.timestamp = new Date(at).toISOString().replace('Z', '+0000');
          const parsed = parseAlarmEvent(body);
          if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
          expect(parsed.value).toMatchObject({ alarmName: name, state, account, region, reason, stateChangedAtMs: at, stateChangedAt: new Date(at).toISOString() });
          expect(parsed.value.alarmArn).toBe(`arn:aws:cloudwatch:${region}:${account}:alarm:${name}`);
        },
      ),
      { numRuns: 300 },
    );
  });
});
