import { CloudWatchLogsClient, CloudWatchLogsServiceException, FilterLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { type ActionContext, PermanentActionError, redactSecrets } from '@responder/domain';
import { LOGS_MAX_PAGES, LogsAdapter } from '../logs.adapter';
import {
  DEFAULT_FILTER_PATTERN,
  errorSignature,
  groupErrorLines,
  type LogErrorsOutput,
  logErrorsAction,
  logErrorsParams,
  logErrorsReport,
  logErrorsSummary,
  sampleLine,
  severityOf,
  signatureLiteral,
} from './log-errors.action';

const SINCE = Date.parse('2026-03-01T10:00:00Z');
const NOW = new Date(SINCE + 30 * 60_000);
const ctx = (): ActionContext => ({ incidentId: 'inc-1', runId: 'run-1', stepId: 'logs', idempotencyKey: 'inc-1-logs-1', signal: new AbortController().signal, dryRun: false });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => new Error('resolved'),
    (e: unknown) => e as Error,
  );
}

describe('errorSignature', () => {
  it.each([
    ['2026-03-01T10:02:03.123Z ERROR timeout after 5012 ms calling 10.0.3.17:5432', '<time> ERROR timeout after <n> ms calling <ip>'],
    ['ERROR order 3f2c1a9e-8b7d-4c6e-9f10-1234567890ab failed: "card declined" for user 77', 'ERROR order <uuid> failed: "<str>" for user <n>'],
    ["Error: can't find task arn:aws:ecs:us-east-1:123456789012:task/prod/0a1b2c3d4e5f60718293a4b5c6d7e8f9", "Error: can't find task arn:aws:ecs:us-east-<n>:<n>:task/prod/<hex>"],
    ['FATAL segfault at 0x7ffd5e8a in worker', 'FATAL segfault at <hex> in worker'],
    ["Exception in thread 'main' java.lang.NullPointerException\n\tat com.example.Foo.bar(Foo.java:42)", "Exception in thread '<str>' java.lang.NullPointerException"],
    ['{"level":"error","time":1767261723000,"msg":"db pool exhausted after 30 s","pid":7}', 'error db pool exhausted after <n> s'],
    ['ERROR login failed password=hunter2 for id deadbeefcafe1234', 'ERROR login failed password=[REDACTED] for id <hex>'],
  ])('%j → %j', (line, signature) => {
    expect(errorSignature(line)).toBe(signature);
  });

  it('keeps words made only of hex letters (a "decade" or "facade" is not an id)', () => {
    expect(errorSignature('ERROR facade decade failed')).toBe('ERROR facade decade failed');
  });
});

describe('severityOf: the filter only narrows, the code decides what is an error', () => {
  it.each([
    ['2026-03-01T10:00:01Z INFO GET /health 200 in 3 ms, no errors', null],
    ['INFO request served in 12 ms', null],
    ['[info] retrying after error (attempt 2)', null],
    ['level=warn msg="slow query, not an error yet"', null],
    ['WARN Exception swallowed by the retry', null],
    ['DEBUG ErrorHandler registered', null],
    ['{"level":"info","msg":"db error rate 0.0%"}', null],
    ['{"level":30,"msg":"error budget ok"}', null],
    ['all good, 0 errors since boot', null],
    ['everything fine: 0 requests failed', null],
    ['sending alert to the pager failed with error 503', 'ERROR'],
    ['2026-03-01T10:00:01Z ERROR db timeout after 5012 ms', 'ERROR'],
    ['[ERROR] upstream refused', 'ERROR'],
    ['{"level":"error","msg":"pool exhausted"}', 'ERROR'],
    ['{"level":50,"msg":"pool exhausted"}', 'ERROR'],
    ['{"level":60,"msg":"cannot start"}', 'FATAL'],
    ['FATAL heap out of memory', 'FATAL'],
    ['panic: runtime error: invalid memory address or nil pointer dereference\ngoroutine 1 [running]:', 'PANIC'],
    ['java.lang.NullPointerException: boom\n\tat Foo.bar(Foo.java:1)', 'EXCEPTION'],
    ['Traceback (most recent call last):\n  File "app.py"', 'EXCEPTION'],
    ['TypeError: Cannot read properties of undefined', 'ERROR'],
    ['connect failed: error ECONNREFUSED 10.0.0.1:5432', 'ERROR'],
    ['CRITICAL disk full', 'CRITICAL'],
  ])('%j → %s', (line, severity) => {
    expect(severityOf(line)).toBe(severity);
  });
});

describe('logErrorsReport', () => {
  it('drops the lines the filter matched that are not errors (INFO "no errors"), counts them, and links each signature to Logs Insights', () => {
    const at = (minute: number) => SINCE + minute * 60_000;
    const output = logErrorsReport(
      [
        {
          logGroup: '/ecs/checkout',
          filterPattern: DEFAULT_FILTER_PATTERN,
          startTime: at(-10),
          truncated: false,
          events: [
            { timestamp: at(-9), message: 'INFO GET /health 200, no errors', logStream: 's' },
            { timestamp: at(-8), message: 'FATAL config: DATABASE_URL missing password=hunter2', logStream: 's' },
            { timestamp: at(-7), message: 'INFO GET /health 200, no errors', logStream: 's' },
            { timestamp: at(-2), message: 'ERROR upstream timeout after 5012 ms', logStream: 's' },
            { timestamp: at(1), message: 'ERROR upstream timeout after 4987 ms', logStream: 's' },
          ],
        },
      ],
      { since: SINCE, marginMinutes: 10, endTime: at(20), region: 'eu-west-1' },
    );
    expect(output).toMatchObject({ events: 3, ignored: 2, distinctSignatures: 2, groups: [{ events: 3, ignored: 2 }] });
    expect(output.signatures.map((s) => [s.signature, s.severity, s.count, s.firstSeen])).toEqual([
      ['ERROR upstream timeout after <n> ms', 'ERROR', 2, new Date(at(-2)).toISOString()],
      ['FATAL config: DATABASE_URL missing password=[REDACTED]', 'FATAL', 1, new Date(at(-8)).toISOString()],
    ]);
    const link = output.signatures[1].link!;
    expect(link).toMatch(/^https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#logsV2:logs-insights\$3FqueryDetail\$3D/);
    const detail = decodeURIComponent(link.split('logs-insights')[1].replace(/\$/g, '%'));
    expect(detail).toContain("source~(~'*2fecs*2fcheckout)");
    expect(detail).toContain('FATAL*20config*3a*20DATABASE_URL*20missing*20password*3d');
    expect(detail).not.toContain('hunter2');
    expect(output.link).toContain('#logsV2:logs-insights$3FqueryDetail$3D');
    expect(logErrorsSummary(output)).toBe('3 error lines in /ecs/checkout, 2 signatures: 2× ERROR upstream timeout after <n> ms; 1× FATAL config: DATABASE_URL missing password=[REDACTED]');
  });

  it('says when every matching line was not an error', () => {
    const output = logErrorsReport([
      { logGroup: '/ecs/checkout', filterPattern: DEFAULT_FILTER_PATTERN, startTime: SINCE, truncated: false, events: [{ timestamp: SINCE, message: 'INFO no errors', logStream: 's' }] },
    ]);
    expect(output).toMatchObject({ events: 0, ignored: 1, signatures: [] });
    expect(logErrorsSummary(output)).toBe(`no error lines in /ecs/checkout since ${new Date(SINCE).toISOString()} (1 matching lines were not errors)`);
  });

  it('signatureLiteral: the longest literal stretch between placeholders, or null', () => {
    expect(signatureLiteral('<time> ERROR db timeout after <n> ms to <ip>')).toBe('ERROR db timeout after');
    expect(signatureLiteral('<n> <hex>')).toBeNull();
  });
});

describe('the redaction log lines get (@responder/domain) and sampleLine', () => {
  it.each([
    ['connect password=s3cr3t! user=app', 'connect password=[REDACTED] user=app'],
    ['{"token": "abc.def.ghi", "user": "x"}', '{"token": "[REDACTED]", "user": "x"}'],
    ['call failed, Authorization: Bearer eyJhbGciOi.payload.sig', 'call failed, Authorization: Bearer [REDACTED]'],
    ['using key AKIAIOSFODNN7EXAMPLE for s3', 'using key [REDACTED] for s3'],
    ['x-api-key: 1234abcd; retry', 'x-api-key: [REDACTED]; retry'],
  ])('%j', (line, redacted) => {
    expect(redactSecrets(line)).toBe(redacted);
  });

  it('truncates a sample to 300 characters and redacts it', () => {
    const sample = sampleLine(`ERROR token=abc ${'x'.repeat(400)}`);
    expect(sample).toHaveLength(300);
    expect(sample.startsWith('ERROR token=[REDACTED] xxx')).toBe(true);
    expect(sample.endsWith('…')).toBe(true);
  });
});

describe('groupErrorLines', () => {
  it('counts lines per signature, with first and last seen, the groups, and the first sample; most frequent first, top N', () => {
    const at = (minute: number) => SINCE + minute * 60_000;
    const events = [
      { timestamp: at(3), message: 'ERROR timeout after 5012 ms', logStream: 's1', logGroup: '/ecs/checkout' },
      { timestamp: at(1), message: 'ERROR timeout after 4987 ms', logStream: 's2', logGroup: '/ecs/checkout' },
      { timestamp: at(2), message: 'ERROR timeout after 4999 ms', logStream: 's1', logGroup: '/ecs/payments' },
      { timestamp: at(0), message: 'FATAL out of memory', logStream: 's1', logGroup: '/ecs/checkout' },
      { timestamp: at(5), message: 'Exception: boom', logStream: 's1', logGroup: '/ecs/checkout' },
    ];
    const { distinct, signatures } = groupErrorLines(events, 2);
    expect(distinct).toBe(3);
    expect(signatures).toEqual([
      {
        signature: 'ERROR timeout after <n> ms',
        count: 3,
        firstSeen: new Date(at(1)).toISOString(),
        lastSeen: new Date(at(3)).toISOString(),
        logGroups: ['/ecs/checkout', '/ecs/payments'],
        sample: 'ERROR timeout after 4987 ms',
        severity: 'ERROR',
      },
      {
        signature: 'FATAL out of memory',
        count: 1,
        firstSeen: new Date(at(0)).toISOString(),
        lastSeen: new Date(at(0)).toISOString(),
        logGroups: ['/ecs/checkout'],
        sample: 'FATAL out of memory',
        severity: 'FATAL',
      },
    ]);
  });
});

describe('logErrorsParams', () => {
  it('defaults the filter and max_events', () => {
    expect(logErrorsParams({ log_groups: ['/ecs/checkout'], since: '2026-03-01T10:00:00Z' })).toEqual({
      logGroups: ['/ecs/checkout'],
      since: new Date(SINCE),
      marginMinutes: 10,
      filterPattern: DEFAULT_FILTER_PATTERN,
      maxEvents: 1000,
    });
  });

  it.each([
    [{ since: '2026-03-01T10:00:00Z' }, /"log_groups" must be a non-empty list/],
    [{ log_groups: ['bad name!'], since: '2026-03-01T10:00:00Z' }, /not a log group name: "bad name!"/],
    [{ log_groups: ['/ecs/x'], since: 'soon' }, /"since" must be an ISO time/],
    [{ log_groups: ['/ecs/x'], since: '2026-03-01T10:00:00Z', max_events: 0 }, /"max_events" must be a whole number from 1 to 10000/],
    [{ log_groups: ['/ecs/x'], since: '2026-03-01T10:00:00Z', margin_minutes: -1 }, /"margin_minutes" must be a number from 0 to 1440/],
    [{ log_groups: ['/ecs/x'], since: '2026-03-01T10:00:00Z', margin_minutes: '10' }, /"margin_minutes" must be a number from 0 to 1440/],
  ])('refuses %j with a permanent error', (params, message) => {
    expect(() => logErrorsParams(params)).toThrow(PermanentActionError);
    expect(() => logErrorsParams(params)).toThrow(message);
  });
});

describe('logs.errors with aws-sdk-client-mock', () => {
  function mocked() {
    const client = new CloudWatchLogsClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    const adapter = new LogsAdapter({ client });
    return { mock, adapter, action: logErrorsAction(adapter, { now: () => NOW }) };
  }
  const event = (minute: number, message: string) => ({ timestamp: SINCE + minute * 60_000, message, logStreamName: 'app/app/abc' });

  it('sends the default pattern from margin_minutes (default 10) before `since`, reads every page, and reports the exact filter per group', async () => {
    const { mock, action } = mocked();
    mock
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [event(1, 'ERROR timeout after 5012 ms')], nextToken: 't2' })
      .resolvesOnce({ events: [], nextToken: 't3' }) // FilterLogEvents may return an empty page while it scans
      .resolvesOnce({ events: [event(2, 'ERROR timeout after 4000 ms'), event(3, 'Exception: boom')] });

    const result = await action.run({ log_groups: ['/ecs/checkout'], since: new Date(SINCE).toISOString() }, ctx());
    const calls = mock.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.nextToken)).toEqual([undefined, 't2', 't3']);
    expect(calls[0]).toEqual({
      logGroupName: '/ecs/checkout',
      filterPattern: '?ERROR ?Error ?error ?Exception ?FATAL',
      startTime: SINCE - 10 * 60_000,
      endTime: NOW.getTime(),
      limit: 1000,
      nextToken: undefined,
    });
    const output = result.output as unknown as LogErrorsOutput;
    expect(output.groups).toEqual([
      { logGroup: '/ecs/checkout', filterPattern: DEFAULT_FILTER_PATTERN, startTime: new Date(SINCE - 10 * 60_000).toISOString(), events: 3, ignored: 0, truncated: false },
    ]);
    expect(output).toMatchObject({
      events: 3,
      truncated: false,
      distinctSignatures: 2,
      since: new Date(SINCE).toISOString(),
      marginMinutes: 10,
      from: new Date(SINCE - 10 * 60_000).toISOString(),
      to: NOW.toISOString(),
    });
    expect(result.summary).toBe('3 error lines in /ecs/checkout, 2 signatures: 2× ERROR timeout after <n> ms; 1× Exception: boom');
  });

  it('stops at max_events and says the result is truncated', async () => {
    const { mock, action } = mocked();
    mock.on(FilterLogEventsCommand).resolves({ events: [event(1, 'ERROR a 1'), event(2, 'ERROR a 2')], nextToken: 'more' });
    const result = await action.run({ log_groups: ['/ecs/checkout'], since: new Date(SINCE).toISOString(), max_events: 3 }, ctx());
    const calls = mock.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.limit)).toEqual([3, 1]);
    expect(result.output).toMatchObject({ events: 3, truncated: true });
    expect(result.summary).toMatch(/^3 error lines \(more not read\) in \/ecs\/checkout/);
  });

  it(`stops after ${LOGS_MAX_PAGES} pages of a scan that keeps returning tokens`, async () => {
    const { mock, adapter } = mocked();
    mock.on(FilterLogEventsCommand).resolves({ events: [], nextToken: 'again' });
    const read = await adapter.filterEvents({ logGroup: '/ecs/checkout', filterPattern: 'ERROR', startTime: SINCE, maxEvents: 1000 });
    expect(read).toEqual({ events: [], truncated: true, pages: LOGS_MAX_PAGES });
    expect(mock.commandCalls(FilterLogEventsCommand)).toHaveLength(LOGS_MAX_PAGES);
  });

  it('fails with a permanent error naming a log group that does not exist', async () => {
    const { mock, action } = mocked();
    mock.on(FilterLogEventsCommand, { logGroupName: '/ecs/gone' }).rejects(new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: { httpStatusCode: 400 } }));
    mock.on(FilterLogEventsCommand, { logGroupName: '/ecs/checkout' }).resolves({ events: [] });
    const error = await rejection(action.run({ log_groups: ['/ecs/checkout', '/ecs/gone'], since: new Date(SINCE).toISOString() }, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toMatch(/^log group not found: \/ecs\/gone \(ResourceNotFoundException/);
  });

  it('fails at once naming logs:FilterLogEvents when access is denied, and retries throttling as a plain error', async () => {
    const { mock, action } = mocked();
    const params = { log_groups: ['/ecs/checkout'], since: new Date(SINCE).toISOString() };
    mock
      .on(FilterLogEventsCommand)
      .rejectsOnce(new CloudWatchLogsServiceException({ name: 'AccessDeniedException', message: 'no', $fault: 'client', $metadata: { httpStatusCode: 400 } }))
      .rejectsOnce(new CloudWatchLogsServiceException({ name: 'ThrottlingException', message: 'Rate exceeded', $fault: 'client', $metadata: { httpStatusCode: 400 } }))
      .resolves({ events: [] });
    const denied = await rejection(action.run(params, ctx()));
    expect(denied).toBeInstanceOf(PermanentActionError);
    expect(denied.message).toMatch(/^access denied: .*logs:FilterLogEvents on log group \/ecs\/checkout/);
    const throttled = await rejection(action.run(params, ctx()));
    expect(throttled).not.toBeInstanceOf(PermanentActionError);
    expect(throttled.message).toContain('ThrottlingException: Rate exceeded');
    expect((await action.run(params, ctx())).summary).toBe(`no error lines in /ecs/checkout since ${new Date(SINCE - 10 * 60_000).toISOString()}`);
  });
});
