import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAlarmEvent } from './alarm-event';
import { problemsToText } from './validation';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures');
const read = (dir: string, file: string): unknown => JSON.parse(readFileSync(join(FIXTURES, dir, file), 'utf8'));

describe('parseAlarmEvent', () => {
  describe.each(readdirSync(join(FIXTURES, 'ok')))('accepts the real-shaped event %s', (file) => {
    it('and reduces it to an alarm', () => {
      const result = parseAlarmEvent(read('ok', file));
      if (!result.ok) throw new Error(problemsToText(result.problems));
      expect(result.value.eventId).toMatch(/\S/);
      expect(result.value.alarmArn).toMatch(/^arn:aws:cloudwatch:[a-z0-9-]+:123456789012:alarm:/);
      expect(Number.isNaN(result.value.stateChangedAtMs)).toBe(false);
    });
  });

  describe.each(readdirSync(join(FIXTURES, 'bad')))('rejects %s', (file) => {
    it('with the error the fixture names', () => {
      const { error, body } = read('bad', file) as { error: string; body: unknown };
      const result = parseAlarmEvent(body);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(problemsToText(result.problems)).toContain(error);
    });
  });

  describe.each(readdirSync(join(FIXTURES, 'ignored')))('does not take %s for an alarm state change', (file) => {
    it('and names its detail-type', () => {
      const result = parseAlarmEvent((read('ignored', file) as { body: unknown }).body);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(problemsToText(result.problems)).toMatch(/^detail-type: expected "CloudWatch Alarm State Change"/);
    });
  });

  it('tells the three kinds of alarm apart', () => {
    const kind = (file: string) => {
      const r = parseAlarmEvent(read('ok', file));
      return r.ok ? r.value.kind : null;
    };
    expect(kind('metric-alarm.json')).toBe('metric');
    expect(kind('metric-math-alarm.json')).toBe('metric-math');
    expect(kind('composite-alarm.json')).toBe('composite');
  });

  it("keeps the alarm's own state-change time, normalised to UTC ISO", () => {
    const r = parseAlarmEvent(read('ok', 'metric-alarm.json'));
    expect(r.ok && r.value.stateChangedAt).toBe('2026-11-20T17:04:40.989Z');
    expect(r.ok && r.value.previousState).toBe('OK');
  });

  it('keeps the composite rule and the metric-math expression', () => {
    const composite = parseAlarmEvent(read('ok', 'composite-alarm.json'));
    expect(composite.ok && composite.value.alarmRule).toBe('ALARM(checkout-alb-5xx) OR ALARM(checkout-unhealthy-hosts)');
    const math = parseAlarmEvent(read('ok', 'metric-math-alarm.json'));
    expect(math.ok && math.value.metrics[0]).toBe('e1 = 100 * m1 / m2');
  });

  it('builds the alarm ARN from region, account and name when resources lack it', () => {
    const event = read('ok', 'metric-alarm.json') as { resources: string[] };
    event.resources = [];
    const r = parseAlarmEvent(event);
    expect(r.ok && r.value.alarmArn).toBe('arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-alb-5xx');
  });

  it('reports every problem of an event at once', () => {
    const event = read('ok', 'metric-alarm.json') as { id?: string; detail: { state: { value: string } } };
    delete event.id;
    event.detail.state.value = 'RED';
    const r = parseAlarmEvent(event);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['id', 'detail.state.value']));
  });
});
