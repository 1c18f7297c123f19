import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Incident, TimelineEntry } from '@responder/domain';
import { type RcaInput, type RcaRun, buildRca, duration } from './model';
import { renderRca, renderRcaMarkdown } from './rca';
import { redactSecrets } from './redact';

const ROOT = join(__dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/rca');

let seq = 0;
const entry = (at: string, type: string, data: Record<string, unknown> = {}): TimelineEntry => ({ id: `${Date.parse(at)}-${seq++}`, at, type, data });

function incident(over: Partial<Incident> & Pick<Incident, 'onsetAt' | 'openedAt'>): Incident {
  return {
    id: 'inc_01JD3M4X9QZ0000000000',
    status: 'resolved',
    service: 'checkout',
    routed: true,
    title: 'checkout-5xx',
    resolvedAt: null,
    alarms: [{ name: 'checkout-5xx', arn: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-5xx', kind: 'metric', state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [42.0] was greater than the threshold (5.0).', stateChangedAt: over.onsetAt }],
    ...over,
  };
}

const diagnostics = (at: string): RcaRun['steps'] => [
  { id: 'alb', action: 'alb.target-health', status: 'succeeded', mutating: false, summary: 'checkout-tg: 0 of 4 targets healthy (Target.ResponseCodeMismatch)', output: { healthy: 0, total: 4, hint: 'the health check gets an unexpected HTTP code' }, startedAt: at, finishedAt: at },
  { id: 'metrics', action: 'cloudwatch.metrics', status: 'succeeded', mutating: false, summary: '5xx: baseline 0.2/min, peak 42/min', output: { baseline: 0.2, peak: 42, queries: [{ namespace: 'AWS/ApplicationELB', metric: 'HTTPCode_Target_5XX_Count', stat: 'Sum', period: 60 }] }, startedAt: at, finishedAt: at },
  { id: 'deploy', action: 'deploy.recent', status: 'succeeded', mutating: false, summary: 'checkout (ECS): checkout:42 PRIMARY, 3 minutes before the onset; correlates with the alarm', output: { correlated: true, minutesBeforeOnset: 3, current: { id: 'ecs-svc/123', taskDefinition: 'checkout:42' } }, startedAt: at, finishedAt: at },
];

/** A rollback granted by the recent-deploy policy, then resolved: across midnight (23:58 → 00:07). */
function rollbackByPolicy(): RcaInput {
  const timeline = [
    entry('2024-11-22T23:58:40Z', 'alarm.received', { alarm: 'checkout-5xx', state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [42.0] was greater than the threshold (5.0).', stateChangedAt: '2024-11-22T23:58:00Z', source: 'http' }),
    entry('2024-11-22T23:58:40Z', 'incident.opened', { service: 'checkout', routed: true, alarm: 'checkout-5xx' }),
    entry('2024-11-22T23:58:41Z', 'run.planned', { runbook: 'production-down' }),
    entry('2024-11-22T23:59:05Z', 'step.succeeded', { step: 'deploy', action: 'deploy.recent', summary: 'checkout:42 3 minutes before the onset; correlates with the alarm' }),
    entry('2024-11-22T23:59:06Z', 'approval.granted', { step: 'rollback', by: 'policy:recent-deploy', policy: 'recent-deploy', plan: 'UpdateService prod/checkout taskDefinition checkout:42 → checkout:41' }),
    entry('2024-11-23T00:02:10Z', 'step.succeeded', { step: 'rollback', action: 'deploy.rollback', summary: 'rolled back to checkout:41' }),
    entry('2024-11-23T00:07:00Z', 'incident.resolved', { lastAlarm: 'checkout-5xx', openForMs: 500_000 }),
  ];
  return {
    incident: incident({ onsetAt: '2024-11-22T23:58:00Z', openedAt: '2024-11-22T23:58:40Z', resolvedAt: '2024-11-23T00:07:00Z' }),
    timeline,
    runs: [{ runbook: 'production-down', steps: [
      ...diagnostics('2024-11-22T23:59:00Z'),
      { id: 'diagnose', action: 'diagnose', status: 'succeeded', mutating: false, summary: 'Deployment checkout:42 at 23:55Z introduced "NullPointerException" (confidence 0.95).', output: {
        cause: 'deployment', confidence: 0.95, summary: 'Deployment checkout:42 at 23:55Z introduced "NullPointerException" (confidence 0.95).', impactStartedAt: '2024-11-22T23:57:00Z',
        hypotheses: [
          { cause: 'deployment', confidence: 0.95, summary: 'deployment checkout:42 at 23:55Z introduced "NullPointerException"', against: [], evidence: [
            { step: 'deploy', text: 'deployment checkout:42 landed at 23:55Z, 2 min before the impact began', link: 'https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout/deployments' },
            { step: 'logs', text: 'ERROR "NullPointerException at CartService.total" first seen at 23:56Z, after the deployment (40×)' },
          ] },
          { cause: 'database', confidence: 0.1, summary: 'the database fails the service', evidence: [{ step: 'logs', text: '2× "SQLSTATE 40001"' }], against: [{ step: 'aurora', text: 'the writer of checkout-db is available and no failover is under way' }] },
        ],
        gaps: [{ step: 'changes', reason: 'recent changes (CloudTrail) not checked: access denied (the role needs cloudtrail:LookupEvents)' }],
      }, startedAt: '2024-11-22T23:59:05Z', finishedAt: '2024-11-22T23:59:05Z' },
      { id: 'rollback', action: 'deploy.rollback', status: 'succeeded', mutating: true, approval: 'policy', approvedBy: 'policy:recent-deploy', plan: 'UpdateService prod/checkout taskDefinition checkout:42 → checkout:41', params: { cluster: 'prod', service: 'checkout', to: 'checkout:41' }, output: { requestId: 'f3a1c2d4-0000-4000-8000-000000000001' }, summary: 'rolled back to checkout:41', startedAt: '2024-11-22T23:59:06Z', finishedAt: '2024-11-23T00:02:10Z' },
      { id: 'scale-up', action: 'ecs.scale-up', status: 'skipped', mutating: true, reason: 'a rollback ran' },
    ] }],
    now: new Date('2024-11-23T09:00:00Z'),
  };
}

/** People approve a scale-up (two-person) and reject a failover; secrets planted everywhere. */
function approvalsAndRejection(): RcaInput {
  const timeline = [
    entry('2024-11-20T10:00:30Z', 'alarm.received', { alarm: 'checkout-latency', state: 'ALARM', reason: 'p99 > 2s; see https://grafana.example.com/d/abc | conn postgres://app:hunter2@db:5432/app', stateChangedAt: '2024-11-20T10:00:00Z' }),
    entry('2024-11-20T10:00:31Z', 'incident.opened', { service: 'checkout', routed: true, alarm: 'checkout-latency' }),
    entry('2024-11-20T10:01:00Z', 'approval.requested', { step: 'scale-up', plan: 'UpdateService prod/checkout desiredCount 4 → 8' }),
    entry('2024-11-20T10:03:12Z', 'note', { by: 'alice', text: 'looking; slack token xoxb-123456-abcdef leaked in logs? password=s3cret' }),
    entry('2024-11-20T10:04:00Z', 'approval.recorded', { step: 'scale-up', by: 'alice', count: 1, needed: 2 }),
    entry('2024-11-20T10:05:00Z', 'approval.granted', { step: 'scale-up', by: 'bob', count: 2, needed: 2 }),
    entry('2024-11-20T10:06:30Z', 'step.succeeded', { step: 'scale-up', action: 'ecs.scale-up', summary: 'desiredCount 4 → 8' }),
    entry('2024-11-20T10:07:00Z', 'approval.rejected', { step: 'failover', by: 'carol', reason: 'writer is fine | readers lag' }),
    entry('2024-11-20T10:20:00Z', 'incident.resolved', { lastAlarm: 'checkout-latency' }),
  ];
  return {
    incident: incident({ onsetAt: '2024-11-20T10:00:00Z', openedAt: '2024-11-20T10:00:31Z', resolvedAt: '2024-11-20T10:20:00Z', title: 'checkout-latency' }),
    timeline,
    runs: [{ runbook: 'production-down', steps: [
      { id: 'logs', action: 'logs.errors', status: 'succeeded', mutating: false, summary: '2 signatures, 310 lines', output: { signatures: [{ text: 'timeout', count: 300 }], sample: 'Authorization: Bearer eyJhbGciOi.abc.def AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG', filters: [{ logGroup: '/ecs/checkout', filterPattern: '?ERROR ?Exception' }] }, startedAt: '2024-11-20T10:00:40Z', finishedAt: '2024-11-20T10:00:50Z' },
      { id: 'scale-up', action: 'ecs.scale-up', status: 'succeeded', mutating: true, approval: 'granted', approvedBy: 'bob', approvals: [{ by: 'alice' }, { by: 'bob' }], plan: 'UpdateService prod/checkout desiredCount 4 → 8', params: { desiredCount: 8, redis: 'redis://:sup3rs3cret@cache:6379' }, summary: 'desiredCount 4 → 8', startedAt: '2024-11-20T10:05:01Z', finishedAt: '2024-11-20T10:06:30Z' },
      { id: 'failover', action: 'aurora.failover', status: 'rejected', mutating: true, approval: 'rejected', plan: 'FailoverDBCluster prod-db → prod-db-reader-1' },
    ] }],
    now: new Date('2024-11-20T12:00:00Z'),
  };
}

/** Still open, a diagnostic failed, nothing mitigated, no human yet. */
function openWithFailedStep(): RcaInput {
  const timeline = [
    entry('2024-11-21T08:15:05Z', 'alarm.received', { alarm: 'orders-unhealthy', state: 'ALARM', reason: 'UnHealthyHostCount > 0 token=abc123def', stateChangedAt: '2024-11-21T08:15:00Z' }),
    entry('2024-11-21T08:15:06Z', 'incident.opened', { service: 'orders', routed: true, alarm: 'orders-unhealthy' }),
    entry('2024-11-21T08:15:30Z', 'step.failed', { step: 'ecs', action: 'ecs.service-status', error: 'AccessDenied: ecs:DescribeServices with mysql://root:toor@db/orders' }),
  ];
  return {
    incident: incident({ service: 'orders', status: 'open', title: 'orders-unhealthy', onsetAt: '2024-11-21T08:15:00Z', openedAt: '2024-11-21T08:15:06Z', alarms: [] }),
    timeline,
    runs: [{ runbook: 'production-down', steps: [
      { id: 'ecs', action: 'ecs.service-status', status: 'failed', mutating: false, error: 'AccessDenied: ecs:DescribeServices with mysql://root:toor@db/orders', startedAt: '2024-11-21T08:15:10Z', finishedAt: '2024-11-21T08:15:30Z' },
      { id: 'metrics', action: 'cloudwatch.metrics', status: 'succeeded', mutating: false, summary: 'UnHealthyHostCount 0 → 2', output: { query: { namespace: 'AWS/ApplicationELB', metric: 'UnHealthyHostCount' } } },
    ] }],
    now: new Date('2024-11-21T08:30:00Z'),
  };
}

/** Resolved after a failed mitigation: the rollback failed, a person approved a scale-up that worked. */
function failedMitigation(): RcaInput {
  const timeline = [
    entry('2024-11-24T14:02:10Z', 'alarm.received', { alarm: 'checkout-5xx', state: 'ALARM', reason: 'Threshold Crossed', stateChangedAt: '2024-11-24T14:02:00Z' }),
    entry('2024-11-24T14:02:10Z', 'incident.opened', { service: 'checkout', routed: true, alarm: 'checkout-5xx' }),
    entry('2024-11-24T14:02:40Z', 'approval.granted', { step: 'rollback', by: 'policy:recent-deploy', policy: 'recent-deploy', plan: 'roll back prod/checkout from checkout:42 to checkout:41' }),
    entry('2024-11-24T14:03:30Z', 'step.failed', { step: 'rollback', action: 'deploy.rollback', error: 'ClientException: TaskDefinition checkout:41 is INACTIVE' }),
    entry('2024-11-24T14:04:00Z', 'approval.requested', { step: 'scale-up', plan: 'UpdateService prod/checkout desiredCount 2 → 4' }),
    entry('2024-11-24T14:09:00Z', 'approval.granted', { step: 'scale-up', by: 'dave@example.com', count: 1, needed: 1 }),
    entry('2024-11-24T14:10:30Z', 'step.succeeded', { step: 'scale-up', action: 'ecs.scale-up', summary: 'scaled prod/checkout from 2 to 4 desired tasks' }),
    entry('2024-11-24T14:21:00Z', 'incident.resolved', { lastAlarm: 'checkout-5xx' }),
  ];
  return {
    incident: incident({ onsetAt: '2024-11-24T14:02:00Z', openedAt: '2024-11-24T14:02:10Z', resolvedAt: '2024-11-24T14:21:00Z' }),
    timeline,
    runs: [{ runbook: 'production-down', steps: [
      ...diagnostics('2024-11-24T14:02:30Z'),
      { id: 'rollback', action: 'deploy.rollback', status: 'failed', mutating: true, approval: 'policy', approvedBy: 'policy:recent-deploy', plan: 'roll back prod/checkout from checkout:42 to checkout:41', params: { cluster: 'prod', service: 'checkout' }, error: 'ClientException: TaskDefinition checkout:41 is INACTIVE', startedAt: '2024-11-24T14:02:40Z', finishedAt: '2024-11-24T14:03:30Z' },
      { id: 'scale-up', action: 'ecs.scale-up', status: 'succeeded', mutating: true, approval: 'granted', approvedBy: 'dave@example.com', approvals: [{ by: 'dave@example.com' }], plan: 'UpdateService prod/checkout desiredCount 2 → 4', params: { cluster: 'prod', service: 'checkout', from: 2 }, output: { desiredCount: 4, requestId: 'a1b2c3d4-0000-4000-8000-000000000009' }, summary: 'scaled prod/checkout from 2 to 4 desired tasks', startedAt: '2024-11-24T14:09:01Z', finishedAt: '2024-11-24T14:10:30Z' },
    ] }],
    now: new Date('2024-11-24T15:00:00Z'),
  };
}

const CASES: Array<[string, () => RcaInput]> = [
  ['failed-mitigation', failedMitigation],
  ['rollback-by-policy', rollbackByPolicy],
  ['approvals-and-rejection', approvalsAndRejection],
  ['open-with-failed-step', openWithFailedStep],
];

describe('renderRca golden files', () => {
  it.each(CASES)('%s renders to its committed markdown, which passes markdownlint', (name, build) => {
    const file = join(FIXTURES, `${name}.md`);
    const markdown = renderRca(build());
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, markdown);
    expect(existsSync(file)).toBe(true);
    expect(markdown).toBe(readFileSync(file, 'utf8'));
    const lint = spawnSync(join(ROOT, 'node_modules/.bin/markdownlint-cli2'), [file], { cwd: ROOT, encoding: 'utf8' });
    expect(`${lint.stdout}${lint.stderr}`).toContain('0 error(s)');
    expect(lint.status).toBe(0);
  });
});

describe('renderRca key times', () => {
  it('measures durations across midnight (23:58 onset, 00:07 resolved → 9m)', () => {
    const md = renderRca(rollbackByPolicy());
    expect(md).toContain('| Time to resolve (onset → resolved) | 9m |');
    expect(md).toContain('| Resolved (alarms back to OK) | 2024-11-23 00:07:00 UTC |');
    expect(md).toContain('| Time to mitigate (onset → mitigated) | 4m 10s |');
    expect(md).toContain('| 2024-11-23 00:07:00 | +9m |');
    expect(md).toContain('# RCA: checkout — checkout-5xx — 2024-11-22');
  });

  it('shows — for the moments that have not happened and the durations that depend on them', () => {
    const md = renderRca(openWithFailedStep());
    expect(md).toContain('| First human response | — |');
    expect(md).toContain('| Mitigated (first mitigating action succeeded) | — |');
    expect(md).toContain('| Resolved (alarms back to OK) | — |');
    expect(md).toContain('| Time to acknowledge (detected → first human response) | — |');
    expect(md).toContain('| Time to resolve (onset → resolved) | — |');
    expect(md).toContain('| Time to detect (onset → detected) | 6s |');
  });

  it('takes the first person, not a policy, as the first human response', () => {
    expect(renderRca(approvalsAndRejection())).toContain('| First human response | 2024-11-20 10:03:12 UTC |');
    expect(renderRca(rollbackByPolicy())).toContain('| First human response | — |');
  });

  it('formats durations with the two largest units', () => {
    expect(duration(0)).toBe('0s');
    expect(duration(192_000)).toBe('3m 12s');
    expect(duration(540_000)).toBe('9m');
    expect(duration(3_900_000)).toBe('1h 5m');
    expect(duration(93_600_000)).toBe('1d 2h');
  });
});

describe('renderRca content', () => {
  it('pre-fills the root cause when a rollback succeeded after a correlated deployment', () => {
    expect(renderRca(rollbackByPolicy())).toContain('Likely the deployment `checkout:42`: the alarm began 3 minutes after it, and rolling back (`rollback`) succeeded 4m 10s after onset.');
  });

  it('names who approved or rejected each action, and the policy', () => {
    const policy = renderRca(rollbackByPolicy());
    expect(policy).toContain('- Approval: granted by policy:recent-deploy');
    expect(policy).toContain('- Request id: `f3a1c2d4-0000-4000-8000-000000000001`');
    const people = renderRca(approvalsAndRejection());
    expect(people).toContain('- Approval: approved by alice and bob');
    expect(people).toContain('- Approval: rejected by carol: writer is fine \\| readers lag');
  });

  it('escapes | in table cells and keeps the queries a reader re-runs', () => {
    const md = renderRca(approvalsAndRejection());
    expect(md).toContain('<https://grafana.example.com/d/abc> \\| conn');
    expect(md).toContain('To re-run (filters):');
    expect(md).toContain('"filterPattern": "?ERROR ?Exception"');
  });
});

describe('secrets', () => {
  const planted = ['hunter2', 'xoxb-123456-abcdef', 's3cret', 'eyJhbGciOi', 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'sup3rs3cret', 'abc123def', 'toor'];

  it.each(CASES)('none planted in alarm reasons, step outputs, params and notes reaches the %s markdown', (_name, build) => {
    const md = renderRca(build());
    for (const secret of planted) expect(md).not.toContain(secret);
  });

  it('redactSecrets masks tokens, keys and connection-string credentials', () => {
    expect(redactSecrets('a xoxb-1-abc b xoxp-2-def c xapp-1-A1-xyz')).toBe('a [REDACTED] b [REDACTED] c [REDACTED]');
    expect(redactSecrets('key AKIAIOSFODNN7EXAMPLE and ASIAY34FZKBOKMUTVV7A')).toBe('key [REDACTED] and [REDACTED]');
    expect(redactSecrets('aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCY')).toBe('aws_secret_access_key=[REDACTED]');
    expect(redactSecrets('password=hunter2&token=abc user=x')).toBe('password=[REDACTED]&token=[REDACTED] user=x');
    expect(redactSecrets('{"password": "hunter2"}')).toBe('{"password": "[REDACTED]"}');
    expect(redactSecrets('Authorization: Bearer eyJ.abc.def')).toBe('Authorization: Bearer [REDACTED]');
    expect(redactSecrets('postgres://app:hunter2@db:5432/app')).toBe('postgres://app:[REDACTED]@db:5432/app');
    expect(redactSecrets('redis://:s3cret@cache:6379')).toBe('redis://:[REDACTED]@cache:6379');
    expect(redactSecrets('mysql://root:toor@db/orders')).toBe('mysql://root:[REDACTED]@db/orders');
    expect(redactSecrets('an ordinary reason with no secret')).toBe('an ordinary reason with no secret');
  });
});

/** What a reader sees of the markdown: escapes, code-span ticks and autolink brackets removed. */
function unmarkdown(md: string): string {
  return md
    .replace(/(?<!\\)<(https?:\/\/[^>]+)>/g, '$1')
    .replace(/(?<!\\)`/g, '')
    .replace(/\\([\\`*_[\]<>#|~@])/g, '$1');
}
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('rca.json (buildRca) and rca.md (renderRca) say the same', () => {
  it.each(CASES)('%s: the markdown is the rendering of the model', (_name, build) => {
    expect(renderRcaMarkdown(buildRca(build()))).toBe(renderRca(build()));
  });

  it.each(CASES)('%s: every timeline row, finding, action, key time and prompt of the model is in the markdown', (_name, build) => {
    const model = buildRca(build());
    const raw = renderRca(build());
    const md = unmarkdown(raw);
    expect(md).toContain(`# ${model.title.text}`);
    expect(md).toContain(`- **What happened**: ${model.summary.whatHappened.text}`);
    expect(model.timeline.length).toBeGreaterThan(0);
    for (const row of model.timeline) expect(md).toContain(`| ${oneLine(row.event)} | ${row.actor} |`);
    for (const time of Object.values(model.keyTimes)) if (time) expect(md).toContain(`${time.slice(0, 10)} ${time.slice(11, 19)} UTC`);
    for (const f of model.findings) {
      expect(md).toContain(`### ${f.runbook}: ${f.step} (${f.action})`);
      for (const h of f.highlights) expect(md).toContain(`- ${h.key}: ${h.value.text}`);
      for (const r of f.rerun) expect(raw).toContain(`To re-run (${r.kind}):\n\n\`\`\`json\n${JSON.stringify(r.value, null, 2)}`);
    }
    for (const a of model.actions) {
      expect(md).toContain(`### ${a.runbook}: ${a.step} (${a.action})`);
      expect(md).toContain(`- Approval: ${oneLine(a.approval.text)}`);
      expect(md).toContain(`- Request id: ${a.requestId ?? '—'}`);
    }
    for (const section of model.prompts) {
      expect(md).toContain(`## ${section.title}\n\n> ${section.prompt}`);
      for (const item of section.items) expect(md).toContain(`- ${item.text}`);
    }
    for (const note of model.notes) expect(md).toContain(`Note: ${oneLine(note.text)}`);
    if (model.verdict) {
      expect(md).toContain(`- **Cause**: ${model.verdict.cause} (confidence ${model.verdict.confidence.toFixed(2)})`);
      for (const e of model.verdict.hypotheses[0].evidence) expect(md).toContain(`- ${e.step}: ${e.text}${e.link ? ` (${e.link})` : ''}`);
      for (const g of model.verdict.gaps) expect(md).toContain(`- ${g.step}: ${g.reason}`);
    }
  });

  it.each(CASES)('%s: the model is plain JSON with no secret in it', (_name, build) => {
    const model = buildRca(build());
    const json = JSON.stringify(model);
    expect(JSON.parse(json)).toEqual(model);
    for (const secret of ['hunter2', 'xoxb-123456-abcdef', 's3cret', 'eyJhbGciOi', 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'sup3rs3cret', 'abc123def', 'toor']) {
      expect(json).not.toContain(secret);
    }
  });

  it('carries the verdict: its evidence with links, what it ruled out and the gaps; diagnose is no finding', () => {
    const model = buildRca(rollbackByPolicy());
    expect(model.verdict).toMatchObject({ cause: 'deployment', confidence: 0.95, gaps: [{ step: 'changes' }] });
    expect(model.findings.map((f) => f.step)).not.toContain('diagnose');
    const md = renderRca(rollbackByPolicy());
    expect(md).toContain('## Root cause (hypothesis)');
    expect(md).toContain('(<https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout/deployments>)');
    expect(md).toMatch(/Ruled out:\n\n- database \(0\.10\): the writer of checkout-db is available/);
    expect(buildRca(openWithFailedStep()).verdict).toBeNull();
    expect(renderRca(openWithFailedStep())).not.toContain('Root cause (hypothesis)');
  });

  it('gives approvers and request ids as data', () => {
    const [rollback, scaleUp] = [buildRca(rollbackByPolicy()).actions[0], buildRca(approvalsAndRejection()).actions[0]];
    expect(rollback).toMatchObject({ step: 'rollback', requestId: 'f3a1c2d4-0000-4000-8000-000000000001', approval: { outcome: 'policy', by: ['policy:recent-deploy'] } });
    expect(scaleUp.approval).toEqual({ outcome: 'approved', by: ['alice', 'bob'], reason: null, text: 'approved by alice and bob' });
    expect(buildRca(approvalsAndRejection()).actions[1].approval).toMatchObject({ outcome: 'rejected', by: ['carol'], reason: 'writer is fine | readers lag' });
    expect(buildRca(rollbackByPolicy()).durations).toEqual({ toDetectMs: 40_000, toAcknowledgeMs: null, toMitigateMs: 250_000, toResolveMs: 540_000 });
    expect(buildRca(openWithFailedStep())).toMatchObject({ draft: true, status: 'open', summary: { impactWindow: { end: null, ongoing: true } } });
  });

  it('says an incident opened by hand had no alarm, and who opened it', () => {
    const input: RcaInput = {
      incident: incident({ status: 'open', title: 'Manual run of production-down by alice@example.com', onsetAt: '2024-11-21T08:15:00Z', openedAt: '2024-11-21T08:15:00Z', alarms: [] }),
      timeline: [entry('2024-11-21T08:15:00Z', 'incident.opened', { service: 'checkout', routed: true, manual: true, by: 'alice@example.com', runbook: 'production-down' })],
      runs: [{ runbook: 'production-down', steps: diagnostics('2024-11-21T08:15:10Z') }],
      now: new Date('2024-11-21T08:30:00Z'),
    };
    const model = buildRca(input);
    expect(model.alarm).toBeNull();
    expect(model.title.text).toBe('RCA: checkout — Manual run of production-down by alice@example.com — 2024-11-21');
    expect(model.summary.whatHappened.text).toBe('No alarm: the incident for checkout was opened by hand by alice@example.com (Manual run of production-down by alice@example.com).');
    expect(renderRca(input)).not.toContain('unknown alarm');
  });

  it('lists notes from the API with their author, who is the first human response', () => {
    const input = openWithFailedStep();
    input.timeline.push(entry('2024-11-21T08:20:00Z', 'note', { by: 'dana@example.com', author: 'dana@example.com', text: 'restarting the\nworkers', source: 'api' }));
    const model = buildRca(input);
    expect(model.notes).toEqual([{ id: expect.any(String), at: '2024-11-21T08:20:00Z', by: 'dana@example.com', text: 'restarting the\nworkers', source: 'api' }]);
    expect(model.keyTimes.firstHumanResponse).toBe('2024-11-21T08:20:00.000Z');
    expect(renderRca(input)).toContain('| 08:20:00 | +5m | Note: restarting the workers | dana\\@example.com |');
  });
});
