/**
 * Writes the hostile-input corpus under test/fixtures/hostile/ (intake/ and slack/): one JSON file
 * per bad request, with the answer it must get. Run once (`npx tsx scripts/hostile-corpus.ts`) after
 * changing a case; the fixtures are committed and test/e2e/hostile-input.spec.ts replays them.
 *
 * Intake case: { description, request: { headers?, apiKey?: 'valid'|'none'|string, query?, body?: string,
 *   json?: unknown, repeat?: { prefix, char, count, suffix } }, expect: { status, message?, outcome?, log? } }; a
 *   string "__FILL:<char>:<count>__" in `json` is that many characters (kept small on disk).
 * Slack case: { description, request: { kind: 'click'|'command'|'raw', click?, command?, raw?,
 *   signing: { mode: 'valid'|'none'|'wrong-secret'|'header', ageSeconds?, headers? } },
 *   expect: { status, log? } }. "$INCIDENT", "$RUN", "$STEP", "$HASH", "$OLD_HASH" in a click's value
 *   stand for the live approval the spec sets up.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const OUT = join(ROOT, 'test', 'fixtures', 'hostile');
const base = (): Record<string, unknown> => {
  const event = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'ok', 'metric-alarm.json'), 'utf8')) as Record<string, unknown>;
  (event.detail as Record<string, unknown>).alarmTags = { team: 'checkout' };
  return event;
};

type Case = { name: string; description: string; request: Record<string, unknown>; expect: Record<string, unknown> };
const intake: Case[] = [];
const slack: Case[] = [];

type Key = string | number;
function at(obj: unknown, path: Key[]): unknown {
  return path.reduce<unknown>((o, k) => (o as Record<Key, unknown>)[k], obj);
}
function set(obj: unknown, path: Key[], value: unknown): void {
  (at(obj, path.slice(0, -1)) as Record<Key, unknown>)[path[path.length - 1]] = value;
}
function drop(obj: unknown, path: Key[]): void {
  const parent = at(obj, path.slice(0, -1)) as Record<Key, unknown>;
  delete parent[path[path.length - 1]];
}
const dotted = (path: Key[]) => path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${k}`)).join('');
const slug = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();

const M = ['detail', 'configuration', 'metrics', 0];
const FIELDS: { path: Key[]; type: 'string' | 'number' | 'boolean' | 'object' | 'array'; required: boolean }[] = [
  { path: ['version'], type: 'string', required: true },
  { path: ['id'], type: 'string', required: true },
  { path: ['detail-type'], type: 'string', required: true },
  { path: ['source'], type: 'string', required: true },
  { path: ['account'], type: 'string', required: true },
  { path: ['time'], type: 'string', required: true },
  { path: ['region'], type: 'string', required: true },
  { path: ['resources'], type: 'array', required: true },
  { path: ['resources', 0], type: 'string', required: false },
  { path: ['detail'], type: 'object', required: true },
  { path: ['detail', 'alarmName'], type: 'string', required: true },
  { path: ['detail', 'alarmTags'], type: 'object', required: false },
  { path: ['detail', 'alarmTags', 'team'], type: 'string', required: false },
  { path: ['detail', 'state'], type: 'object', required: true },
  { path: ['detail', 'state', 'value'], type: 'string', required: true },
  { path: ['detail', 'state', 'reason'], type: 'string', required: true },
  { path: ['detail', 'state', 'reasonData'], type: 'string', required: false },
  { path: ['detail', 'state', 'timestamp'], type: 'string', required: true },
  { path: ['detail', 'previousState'], type: 'object', required: false },
  { path: ['detail', 'previousState', 'value'], type: 'string', required: true },
  { path: ['detail', 'configuration'], type: 'object', required: false },
  { path: ['detail', 'configuration', 'description'], type: 'string', required: false },
  { path: ['detail', 'configuration', 'metrics'], type: 'array', required: false },
  { path: [...M], type: 'object', required: false },
  { path: [...M, 'id'], type: 'string', required: true },
  { path: [...M, 'metricStat'], type: 'object', required: false },
  { path: [...M, 'metricStat', 'period'], type: 'number', required: true },
  { path: [...M, 'metricStat', 'stat'], type: 'string', required: true },
  { path: [...M, 'metricStat', 'metric'], type: 'object', required: true },
  { path: [...M, 'metricStat', 'metric', 'namespace'], type: 'string', required: true },
  { path: [...M, 'metricStat', 'metric', 'name'], type: 'string', required: true },
  { path: [...M, 'metricStat', 'metric', 'dimensions'], type: 'object', required: false },
  { path: [...M, 'metricStat', 'metric', 'dimensions', 'LoadBalancer'], type: 'string', required: false },
  { path: [...M, 'returnData'], type: 'boolean', required: false },
];
const VALUES: Record<string, unknown> = { number: 42, boolean: true, null: null, array: ['x'], object: { x: 1 }, string: 'x' };

const bad = (name: string, description: string, json: unknown, message: string, status = 400) =>
  intake.push({ name, description, request: { json }, expect: { status, message, log: status === 400 ? 'event rejected' : undefined } });

// Type confusion on every field; a missing required field.
for (const field of FIELDS) {
  const where = dotted(field.path);
  for (const [kind, value] of Object.entries(VALUES)) {
    if (kind === field.type) continue;
    const e = base();
    set(e, field.path, value);
    // A non-object where an object holding a removed metric is expected (metricStat gone): still names the path.
    const expected = field.path.length === 2 && field.path[0] === 'detail' && field.path[1] === 'state' ? 'detail.state' : where;
    bad(`type-${slug(where)}-${kind}`, `${where} is ${kind === 'null' ? 'null' : `a ${kind}`}`, e, `${expected}:`);
  }
  if (field.required) {
    const e = base();
    drop(e, field.path);
    // A missing literal or enum is named with what was expected.
    const literal = ['detail-type', 'source', 'detail.state.value', 'detail.previousState.value'].includes(where);
    bad(`missing-${slug(where)}`, `${where} is missing`, e, literal ? `${where}: expected` : `${where}: is required`);
  }
}

// Wrong values of the right type: enums, formats, empty strings.
const wrong: [Key[], unknown, string][] = [
  [['source'], 'aws.ec2', 'source: expected "aws.cloudwatch"'],
  [['source'], 'custom.cloudwatch', 'source: expected "aws.cloudwatch"'],
  [['source'], 'AWS.CLOUDWATCH', 'source: expected "aws.cloudwatch"'],
  [['source'], 'aws.cloudwatch\u0000', 'source: expected "aws.cloudwatch"'],
  [['source'], 'aws.cloudwatch\u200b', 'source: expected "aws.cloudwatch"'],
  [['source'], 'aws.cloudwаtch', 'source: expected "aws.cloudwatch"'], // Cyrillic а
  [['account'], '1234', 'account: expected a 12-digit AWS account id'],
  [['account'], '1234567890123', 'account: expected a 12-digit AWS account id'],
  [['account'], '12345678901a', 'account: expected a 12-digit AWS account id'],
  [['account'], '１２３４５６７８９０１２', 'account: expected a 12-digit AWS account id'], // full-width digits
  [['account'], '١٢٣٤٥٦٧٨٩٠١٢', 'account: expected a 12-digit AWS account id'], // Arabic-Indic digits
  [['account'], '123456789012\n', 'account: expected a 12-digit AWS account id'],
  [['account'], '', 'account: expected a 12-digit AWS account id'],
  [['region'], 'moon-base-1', 'region: expected an AWS region'],
  [['region'], 'US-EAST-1', 'region: expected an AWS region'],
  [['region'], 'us-east-1; DROP TABLE', 'region: expected an AWS region'],
  [['region'], 'us‐east‐1', 'region: expected an AWS region'], // U+2010 hyphens
  [['time'], 'yesterday', 'time: expected an ISO 8601 timestamp'],
  [['time'], '2026-13-45T99:99:99Z', 'time: expected an ISO 8601 timestamp'],
  [['time'], '1700000000', 'time: expected an ISO 8601 timestamp'],
  [['time'], '', 'time: expected an ISO 8601 timestamp'],
  [['detail', 'state', 'timestamp'], 'not-a-time', 'detail.state.timestamp: expected an ISO 8601 timestamp'],
  [['detail', 'state', 'timestamp'], '２０２６-11-20T17:04:40Z', 'detail.state.timestamp: expected an ISO 8601 timestamp'],
  [['detail', 'state', 'value'], 'alarm', 'detail.state.value:'],
  [['detail', 'state', 'value'], 'ALARM\u200b', 'detail.state.value:'],
  [['detail', 'state', 'value'], 'АLARM', 'detail.state.value:'], // Cyrillic А
  [['detail', 'state', 'value'], 'FIRING', 'detail.state.value:'],
  [['detail', 'state', 'value'], '', 'detail.state.value:'],
  [['detail', 'previousState', 'value'], 'PENDING', 'detail.previousState.value:'],
  [['id'], '', 'id: expected a non-empty event id'],
  [['detail', 'alarmName'], '', 'detail.alarmName: expected a non-empty alarm name'],
  // CloudWatch alarm names are printable: the first offending code point is named, with its position.
  [['detail', 'alarmName'], 'checkout\u0000-alb-5xx', 'detail.alarmName: expected printable characters only, found U+0000 at position 8'],
  [['detail', 'alarmName'], 'checkout\n-alb-5xx', 'detail.alarmName: expected printable characters only, found U+000A at position 8'],
  [['detail', 'alarmName'], 'checkout\u001b[31m-alb', 'detail.alarmName: expected printable characters only, found U+001B at position 8'],
  [['detail', 'alarmName'], 'checkout\u007f', 'detail.alarmName: expected printable characters only, found U+007F at position 8'],
  [['detail', 'alarmName'], 'checkout\u202e-alb', 'detail.alarmName: expected printable characters only, found U+202E at position 8'], // right-to-left override
  [['detail', 'alarmName'], 'checkout\u200b-alb', 'detail.alarmName: expected printable characters only, found U+200B at position 8'], // zero-width space
  [['detail', 'alarmName'], 'checkout\u2028-alb', 'detail.alarmName: expected printable characters only, found U+2028 at position 8'], // line separator
  [['detail', 'alarmName'], 'checkout\ud800-alb', 'detail.alarmName: expected printable characters only, found U+D800 at position 8'],
  [['detail', 'alarmName'], '\udfff', 'detail.alarmName: expected printable characters only, found U+DFFF at position 0'],
  [[...M, 'metricStat'], undefined, 'detail.configuration.metrics[0]: expected a metric with "metricStat" or "expression"'],
];
for (const [path, value, message] of wrong) {
  const e = base();
  if (value === undefined) drop(e, path);
  else set(e, path, value);
  bad(`value-${slug(dotted(path))}-${slug(JSON.stringify(value) ?? 'none').slice(0, 30) || 'empty'}-${intake.length}`, `${dotted(path)} is ${JSON.stringify(value) ?? 'missing'}`, e, message);
}

// Another detail-type (a string): a broad EventBridge rule sends these too, so they are ignored
// (202, nothing stored) rather than refused, which would pile them up as failed deliveries.
const ignoredEvent = (name: string, description: string, request: Record<string, unknown>) =>
  intake.push({ name, description, request, expect: { status: 202, outcome: 'ignored' } });
for (const detailType of ['EC2 Instance State-change Notification', 'cloudwatch alarm state change', 'CloudWatch Alarm State Change ', 'CloudWatch Alarm State Change\u0000', '']) {
  const e = base();
  e['detail-type'] = detailType;
  ignoredEvent(`ignored-detail-type-${slug(detailType) || 'empty'}-${intake.length}`, `an alarm event whose detail-type is ${JSON.stringify(detailType)}`, { json: e });
}
{
  // Another detail-type is ignored whatever else the event holds: nothing of it is read.
  const e = base();
  e['detail-type'] = 'AWS API Call via CloudTrail';
  e.account = '999999999999';
  set(e, ['detail', 'alarmName'], 'x'.repeat(300));
  ignoredEvent('ignored-detail-type-with-bad-fields', 'a CloudTrail detail-type with a foreign account and an over-long alarm name', { json: e });
}

// Huge strings (each within the 256 KB body limit, over the field's AWS limit).
const huge: [Key[], number, string][] = [
  [['detail', 'alarmName'], 256, "detail.alarmName: expected at most 255 characters (CloudWatch's limit)"],
  [['detail', 'alarmName'], 200_000, "detail.alarmName: expected at most 255 characters (CloudWatch's limit)"],
  [['detail', 'state', 'reason'], 1024, 'detail.state.reason: expected at most 1023 characters'],
  [['detail', 'state', 'reason'], 250_000, 'detail.state.reason: expected at most 1023 characters'],
  [['detail', 'state', 'reasonData'], 4001, 'detail.state.reasonData: expected at most 4000 characters'],
  [['detail', 'previousState', 'reason'], 100_000, 'detail.previousState.reason: expected at most 1023 characters'],
  [['detail', 'configuration', 'description'], 1025, 'detail.configuration.description: expected at most 1024 characters'],
  [['id'], 257, 'id: expected at most 256 characters'],
  [['id'], 100_000, 'id: expected at most 256 characters'],
];
for (const [path, length, message] of huge) {
  const e = base();
  // Multi-byte where it fits: a limit counts characters, the body limit bytes.
  set(e, path, length < 10_000 ? '€'.repeat(length) : `__FILL:x:${length}__`);
  bad(`huge-${slug(dotted(path))}-${length}`, `${dotted(path)} is ${length} characters long`, e, message);
}
{
  const e = base();
  set(e, ['detail', 'configuration', 'metrics'], Array.from({ length: 3000 }, (_, i) => ({ id: `m${i}`, expression: 'm1' })));
  set(e, ['detail', 'alarmName'], '');
  bad('huge-metrics-array', '3000 metrics and an empty alarm name', e, 'detail.alarmName: expected a non-empty alarm name');
}

// A raw body is sent as what it is, JSON: otherwise it would meet the 415 before its hostile content.
const JSON_BODY = { 'content-type': 'application/json' };

// Deep nesting: in an ignored field, and where an object is expected.
for (const depth of [100, 1000, 20_000]) {
  const e = base();
  const nested = '['.repeat(depth) + ']'.repeat(depth);
  const text = JSON.stringify({ ...e, source: undefined, extra: '__NESTED__' }).replace('"__NESTED__"', nested);
  intake.push({ name: `deep-array-${depth}`, description: `an array nested ${depth} deep, and no source`, request: { body: text, headers: JSON_BODY }, expect: { status: 400, message: 'source: expected "aws.cloudwatch", got nothing', log: 'event rejected' } });
  const objects = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  const text2 = JSON.stringify(e).replace(/"detail":\{/, `"detail":{"alarmTags":${objects},"ignored":{`).replace(/\}$/, '}}');
  intake.push({ name: `deep-object-${depth}`, description: `alarmTags nested ${depth} deep`, request: { body: text2, headers: JSON_BODY }, expect: { status: 400, message: 'detail.alarmTags.a:', log: 'event rejected' } });
}

// __proto__ / constructor keys: never pollute, and the real problem is still named.
const protoCases: [string, string][] = [
  ['proto-top-level', '{"__proto__":{"source":"aws.cloudwatch","polluted":"yes"},'],
  ['constructor-prototype', '{"constructor":{"prototype":{"source":"aws.cloudwatch","polluted":"yes"}},'],
  ['proto-and-constructor', '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},'],
];
for (const [name, head] of protoCases) {
  const e = base();
  delete e.source;
  intake.push({ name, description: `${head.slice(1, 40)}… and no source`, request: { body: JSON.stringify(e).replace(/^\{/, head), headers: JSON_BODY }, expect: { status: 400, message: 'source: expected "aws.cloudwatch", got nothing', log: 'event rejected' } });
}
for (const [where, path] of [
  ['detail', ['detail']],
  ['state', ['detail', 'state']],
  ['dimensions', [...M, 'metricStat', 'metric', 'dimensions']],
  ['alarmTags', ['detail', 'alarmTags']],
] as [string, Key[]][]) {
  const e = base();
  set(e, ['detail', 'state', 'value'], 'BROKEN');
  const obj = at(e, path) as Record<string, unknown>;
  obj.__PROTO_KEY__ = { polluted: 'yes', value: 'ALARM' };
  obj.constructor_ = 1;
  const text = JSON.stringify(e).replace('"__PROTO_KEY__"', '"__proto__"').replace('"constructor_"', '"constructor"');
  intake.push({ name: `proto-in-${where}`, description: `"__proto__" and "constructor" keys inside ${where}, and a bad state`, request: { body: text, headers: JSON_BODY }, expect: { status: 400, message: 'detail.state.value:', log: 'event rejected' } });
}

// Another account (the spec sets ALARM_ACCOUNTS=123456789012,210987654321).
for (const [name, account, arnAccount] of [
  ['other-account', '999999999999', '999999999999'],
  ['other-account-arn', '123456789012', '999999999999'],
  ['other-account-zeros', '000000000000', '000000000000'],
]) {
  const e = base();
  e.account = account;
  e.resources = [`arn:aws:cloudwatch:us-east-1:${arnAccount}:alarm:checkout-alb-5xx`];
  bad(name, `a valid event from account ${account} (alarm in ${arnAccount})`, e, 'account: 999999999999 is not an account this Responder serves'.replace('999999999999', account === arnAccount ? account : arnAccount).replace('account:', account === arnAccount ? 'account:' : 'resources:'));
}

// Not one event: other JSON values, batches, and bodies that are not JSON at all.
const notJson: [string, string, string, number, string | undefined][] = [
  ['json-null', 'null', 'application/json', 400, 'expected one EventBridge event'],
  ['json-number', '42', 'application/json', 400, 'expected one EventBridge event'],
  ['json-string', '"event"', 'application/json', 400, 'expected one EventBridge event'],
  ['json-true', 'true', 'application/json', 400, 'expected one EventBridge event'],
  ['json-empty-array', '[]', 'application/json', 400, 'expected one EventBridge event (a JSON object), got an array'],
  ['json-empty-object', '{}', 'application/json', 400, 'detail-type: expected "CloudWatch Alarm State Change", got nothing'],
  ['truncated', '{"version": "0", "id": ', 'application/json', 400, 'body is not valid JSON'],
  ['single-quotes', "{'version': '0'}", 'application/json', 400, 'body is not valid JSON'],
  ['trailing-comma', '{"version": "0",}', 'application/json', 400, 'body is not valid JSON'],
  ['nan', '{"version": NaN}', 'application/json', 400, 'body is not valid JSON'],
  // EventBridge API destinations send application/json: anything else is 415, after the key check.
  ['xml', '<event><source>aws.cloudwatch</source></event>', 'application/xml', 415, 'expected Content-Type: application/json, got "application/xml"'],
  ['form', 'source=aws.cloudwatch&detail-type=CloudWatch', 'application/x-www-form-urlencoded', 415, 'expected Content-Type: application/json'],
  ['plain-text', 'the checkout service is down', 'text/plain', 415, 'expected Content-Type: application/json, got "text/plain"'],
  ['empty-json', '', 'application/json', 400, undefined],
  ['empty-text', '', 'text/plain', 415, 'expected Content-Type: application/json'],
  ['nul-bytes', '\u0000\u0000\u0000', 'application/json', 400, 'body is not valid JSON'],
  ['bom-garbage', '\ufeff\ufeff{', 'application/json', 400, 'body is not valid JSON'],
  ['binary-content-type', '\u00ff\u00fe\u0000\u0001', 'application/octet-stream', 415, 'expected Content-Type: application/json'],
  ['json-content-type-charset', '{"a":', 'application/json; charset=utf-16', 400, undefined],
];
for (const [name, body, contentType, status, message] of notJson) {
  intake.push({ name: `body-${name}`, description: `body ${JSON.stringify(body.slice(0, 40))} as ${contentType}`, request: { body, headers: { 'content-type': contentType } }, expect: { status, message } });
}
// A lone surrogate as the detail-type is still a string other than the alarm's: ignored.
ignoredEvent('body-lone-surrogate-escape', 'body {"detail-type": "\\ud800"} as application/json', { body: '{"detail-type": "\\ud800"}', headers: { 'content-type': 'application/json' } });
for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'none']) {
  // The key is checked first: an unauthenticated caller learns nothing but 401, whatever it sends.
  intake.push({ name: `auth-no-key-${slug(contentType)}`, description: `no key and a ${contentType} body`, request: { body: 'the checkout service is down', apiKey: 'none', headers: contentType === 'none' ? {} : { 'content-type': contentType } }, expect: { status: 401, message: 'x-api-key' } });
}
{
  const e = base();
  e['detail-type'] = 'EC2 Instance State-change Notification';
  intake.push({ name: 'auth-no-key-other-detail-type', description: 'an event of another detail-type without the key', request: { json: e, apiKey: 'none' }, expect: { status: 401, message: 'x-api-key' } });
  // A real alarm event is JSON whatever its Content-Type says, but only application/json is taken.
  intake.push({ name: 'body-valid-event-as-text', description: 'a valid alarm event sent as text/plain', request: { body: JSON.stringify(base()), headers: { 'content-type': 'text/plain' } }, expect: { status: 415, message: 'expected Content-Type: application/json, got "text/plain"' } });
}
{
  const e = base();
  intake.push({ name: 'body-batch', description: 'an array of two events (a batch)', request: { json: [e, e] }, expect: { status: 400, message: 'got an array', log: 'event rejected' } });
}

// Oversized bodies (built at test time: the fixture says how).
for (const [name, count] of [
  ['oversized-256k-plus-1', 256 * 1024 + 1],
  ['oversized-1m', 1024 * 1024],
  ['oversized-8m', 8 * 1024 * 1024],
] as const) {
  intake.push({ name, description: `a ${count}-byte body`, request: { repeat: { prefix: '{"version":"0","pad":"', char: 'x', count, suffix: '"}' }, headers: { 'content-type': 'application/json' } }, expect: { status: 413, message: '256 KB' } });
}
// Not JSON is refused by its Content-Type before its size matters (the body is never read).
intake.push({ name: 'oversized-not-json', description: 'a 1 MB text body', request: { repeat: { prefix: '', char: 'y', count: 1024 * 1024, suffix: '' }, headers: { 'content-type': 'text/plain' } }, expect: { status: 415, message: 'expected Content-Type: application/json' } });

// Authentication: a perfectly good event without the right key.
for (const [name, apiKey, headers] of [
  ['no-key', 'none', {}],
  ['wrong-key', 'wrong-key-0123456789abcdef', {}],
  ['key-prefix', 'test-ingest-key-012345678', {}],
  ['key-with-suffix', 'test-ingest-key-0123456789x', {}],
  ['key-in-bearer', 'none', { authorization: 'Bearer test-ingest-key-0123456789' }],
  ['key-in-query', 'none', {}],
  ['key-empty', '', {}],
  ['key-latin1', 'tést-ingest-key-0123456789', {}],
] as [string, string, Record<string, string>][]) {
  intake.push({ name: `auth-${name}`, description: `a valid event, ${name.replace(/-/g, ' ')}`, request: { json: base(), apiKey, headers, query: name === 'key-in-query' ? 'x-api-key=test-ingest-key-0123456789' : undefined }, expect: { status: 401, message: 'x-api-key' } });
}

// ---- /slack/events ----
const click = (actionId: string, value: Record<string, string> | string, extra: Record<string, unknown> = {}) => ({ kind: 'click', click: { actionId, value, userId: 'U0ALICE01', ...extra } });
const live = { incidentId: '$INCIDENT', runId: '$RUN', step: '$STEP', paramsHash: '$HASH' };
const signings: [string, Record<string, unknown>][] = [
  ['unsigned', { mode: 'none' }],
  ['wrong-secret', { mode: 'wrong-secret' }],
  ['old-6min', { mode: 'valid', ageSeconds: 6 * 60 }],
  ['old-1h', { mode: 'valid', ageSeconds: 3600 }],
  ['old-1y', { mode: 'valid', ageSeconds: 365 * 24 * 3600 }],
  ['future-10min', { mode: 'valid', ageSeconds: -10 * 60 }],
  ['timestamp-zero', { mode: 'header', headers: { 'x-slack-request-timestamp': '0' } }],
  ['timestamp-text', { mode: 'header', headers: { 'x-slack-request-timestamp': 'now' } }],
  ['timestamp-huge', { mode: 'header', headers: { 'x-slack-request-timestamp': '99999999999999999999' } }],
  ['signature-v1', { mode: 'header', headers: { 'x-slack-signature': 'v1=$DIGEST' } }],
  ['signature-truncated', { mode: 'header', headers: { 'x-slack-signature': 'v0=$DIGEST_HALF' } }],
  ['signature-uppercase', { mode: 'header', headers: { 'x-slack-signature': 'v0=$DIGEST_UPPER' } }],
  ['signature-empty', { mode: 'header', headers: { 'x-slack-signature': '' } }],
  ['signature-garbage', { mode: 'header', headers: { 'x-slack-signature': 'v0=zzzz' } }],
  ['signature-other-body', { mode: 'other-body' }],
  ['replayed-old-signature', { mode: 'valid', ageSeconds: 301 }],
];
for (const [name, signing] of signings) {
  slack.push({ name: `approve-${name}`, description: `an Approve click on the live approval, ${name.replace(/-/g, ' ')}`, request: { ...click('responder_approve', live), signing }, expect: { status: 401 } });
  slack.push({ name: `command-${name}`, description: `/incident list, ${name.replace(/-/g, ' ')}`, request: { kind: 'command', command: { text: 'list' }, signing }, expect: { status: 401 } });
}
slack.push({ name: 'reject-unsigned', description: 'a Reject click, unsigned', request: { ...click('responder_reject', live), signing: { mode: 'none' } }, expect: { status: 401 } });
slack.push({ name: 'reject-wrong-secret', description: 'a Reject click, signed with another secret', request: { ...click('responder_reject', live), signing: { mode: 'wrong-secret' } }, expect: { status: 401 } });

const ignored = (name: string, description: string, request: Record<string, unknown>, log: string) =>
  slack.push({ name, description, request: { ...request, signing: { mode: 'valid' } }, expect: { status: 200, log } });
ignored('click-other-incident', 'a signed Approve for the live run but another incident id', click('responder_approve', { ...live, incidentId: 'inc_00000000000000000000000000' }), 'refused');
ignored('click-unknown-run', 'a signed Approve for a run that does not exist', click('responder_approve', { ...live, runId: 'run_doesnotexist' }), 'refused');
ignored('click-unknown-step', 'a signed Approve for a step the run does not have', click('responder_approve', { ...live, step: 'drop-database' }), 'refused');
ignored('click-old-plan', 'a signed Approve of an older plan of the live step (another params hash)', click('responder_approve', { ...live, paramsHash: '$OLD_HASH' }), 'refused');
ignored('reject-other-incident', 'a signed Reject for another incident', click('responder_reject', { ...live, incidentId: 'inc_00000000000000000000000000' }), 'refused');
ignored('click-not-an-approver', 'a signed Approve by someone who is not an approver', click('responder_approve', live, { userId: 'U0MALLORY' }), 'not an approver');
// SLACK_TEAM_ID is set (the team of the captured payloads): another workspace never reaches a listener.
ignored('click-wrong-team', 'a signed Approve from another workspace by a user who is not an approver there', click('responder_approve', live, { userId: 'U0EVE0001', teamId: 'T0OTHERTEAM' }), 'from team T0OTHERTEAM');
ignored('click-wrong-team-approver', "a signed Approve from another workspace by a user with an approver's Slack id", click('responder_approve', live, { teamId: 'T0OTHERTEAM' }), 'ignored a Slack block_actions by U0ALICE01 from team T0OTHERTEAM');
ignored('command-wrong-team', "a signed /incident pause from another workspace by a user with an approver's Slack id", { kind: 'command', command: { text: 'pause', teamId: 'T0OTHERTEAM' } }, 'ignored a Slack command /incident by U0ALICE01 from team T0OTHERTEAM');
for (const [name, value] of [
  ['value-not-json', 'approve it please'],
  ['value-empty', ''],
  ['value-array', '[1,2,3]'],
  ['value-proto', '{"__proto__":{"incidentId":"$INCIDENT"},"runId":"$RUN","step":"$STEP","paramsHash":"$HASH"}'],
  ['value-hash-not-hex', JSON.stringify({ ...live, paramsHash: 'zzzzzzzzzzzzzzzz' })],
  ['value-missing-hash', JSON.stringify({ incidentId: '$INCIDENT', runId: '$RUN', step: '$STEP' })],
  ['value-numbers', JSON.stringify({ incidentId: 1, runId: 2, step: 3, paramsHash: 4 })],
  ['value-huge', JSON.stringify({ ...live, step: 'x'.repeat(1900) })],
] as const) {
  ignored(`click-${name}`, `a signed Approve whose button value is ${name.replace('value-', '').replace(/-/g, ' ')}`, click('responder_approve', value), name === 'value-huge' ? 'refused' : 'malformed button value');
}
for (const [i, actionId] of ['responder_delete', 'responder_approve_all', 'RESPONDER_APPROVE', 'responder_approve ', '__proto__'].entries()) {
  slack.push({ name: `unknown-action-${i}-${slug(actionId) || 'proto'}`, description: `a signed click on an unknown action id ${JSON.stringify(actionId)}`, request: { ...click(actionId, live), signing: { mode: 'valid' } }, expect: { status: 404, log: 'not acknowledged' } });
}
for (const [name, raw, contentType, status] of [
  ['raw-empty', '', 'application/x-www-form-urlencoded', 404],
  ['raw-json-garbage', '{"type":', 'application/json', 400],
  ['raw-payload-not-json', 'payload=%7Bnot-json', 'application/x-www-form-urlencoded', 400],
] as const) {
  slack.push({ name, description: `a signed body ${JSON.stringify(raw)} as ${contentType}`, request: { kind: 'raw', raw, contentType, signing: { mode: 'valid' } }, expect: { status } });
}

rmSync(OUT, { recursive: true, force: true });
for (const [dir, cases] of [
  ['intake', intake],
  ['slack', slack],
] as const) {
  mkdirSync(join(OUT, dir), { recursive: true });
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.name)) throw new Error(`duplicate case ${c.name}`);
    seen.add(c.name);
    writeFileSync(join(OUT, dir, `${c.name}.json`), `${JSON.stringify({ description: c.description, request: c.request, expect: c.expect }, null, 2)}\n`);
  }
}
console.log(`${intake.length} intake cases, ${slack.length} slack cases`);
