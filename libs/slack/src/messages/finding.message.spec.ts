import { findingMessage } from './finding.message';
import {
  SECRETS,
  SECRET_TEXT,
  STEPS,
  albOutput,
  asOutput,
  auroraOutput,
  deployOutput,
  deployUncorrelatedOutput,
  ecsOutput,
  logsOutput,
  makeRun,
  makeStep,
  makeView,
  metricsOutput,
  textsOf,
  verifyOutput,
  verifyRecoveredOutput,
} from '../../../../test/fixtures/slack/views';
import type { StepView } from '../view';

const view = makeView();
const run = makeRun([]);
const done = (action: string, output: Record<string, unknown> | undefined, summary = `${action} summary`): StepView =>
  makeStep({ id: action.split('.')[0], action, status: 'succeeded', startedAt: '2026-11-22T18:04:00.000Z', finishedAt: '2026-11-22T18:04:05.000Z', summary, output });

const findings: Array<[string, StepView]> = [
  ['alb.target-health', done('alb.target-health', asOutput(albOutput))],
  ['ecs.service-status', done('ecs.service-status', asOutput(ecsOutput))],
  ['logs.errors', done('logs.errors', asOutput(logsOutput))],
  ['logs.errors with no error line', done('logs.errors', asOutput({ ...logsOutput, groups: logsOutput.groups.slice(0, 1), events: 0, distinctSignatures: 0, signatures: [] }))],
  ['cloudwatch.metrics', done('cloudwatch.metrics', asOutput(metricsOutput))],
  ['deploy.recent correlated', done('deploy.recent', asOutput(deployOutput))],
  ['deploy.recent not correlated (CodeDeploy)', done('deploy.recent', asOutput(deployUncorrelatedOutput))],
  ['aurora.health', done('aurora.health', asOutput(auroraOutput))],
  ['verify.recovery not recovered', done('verify.recovery', asOutput(verifyOutput))],
  ['verify.recovery recovered', done('verify.recovery', asOutput(verifyRecoveredOutput))],
  ['a generic action', done('sqs.depth', { queue: 'checkout-jobs', visible: 1200, oldestAgeSeconds: 340, backlog: true, nested: { a: 1 } }, 'checkout-jobs has 1200 visible messages')],
  ['a failed read-only step', STEPS.failed],
];

describe('findingMessage', () => {
  it.each(findings)('renders %s', (_name, step) => {
    expect(findingMessage(view, run, step)).toMatchSnapshot();
  });

  it('explains each ALB reason code in plain words, with its count', () => {
    const json = JSON.stringify(findingMessage(view, run, findings[0][1]));
    expect(json).toContain('`Target.Timeout` ×2: targets do not answer the health check in time');
    expect(json).toContain('*3 of 6 targets unhealthy* (2 healthy)');
  });

  it('says whether the deployment correlates with the onset', () => {
    expect(JSON.stringify(findingMessage(view, run, findings[5][1]))).toContain('The deployment correlates with the onset* (5.2 min before the onset');
    expect(JSON.stringify(findingMessage(view, run, findings[6][1]))).toContain('No correlation');
  });

  it('is null for a step that has not finished, was skipped, or changes production', () => {
    for (const step of [STEPS.pending, STEPS.queued, STEPS.running, STEPS.skipped, STEPS.cancelled, STEPS.grantedByPerson]) {
      expect(findingMessage(view, run, step)).toBeNull();
    }
  });

  it('shows the error of a failed step', () => {
    expect(JSON.stringify(findingMessage(view, run, STEPS.failed))).toContain('*Error*: AccessDenied');
  });

  it('falls back to the summary when the output is missing or of the wrong shape', () => {
    const shapes: unknown[] = [undefined, {}, { total: 'six', targetGroups: 'x' }, { metrics: [null, 3, 'x'], errorsUp: 'yes' }, { recovered: 'no' }, { current: 5 }, { verdict: 42 }];
    for (const action of findings.map(([, s]) => s.action)) {
      for (const output of shapes) {
        const message = findingMessage(view, run, done(action, output as Record<string, unknown> | undefined, 'the summary'));
        expect(message).not.toBeNull();
        expect(message!.blocks.length).toBeGreaterThan(1);
      }
    }
    expect(JSON.stringify(findingMessage(view, run, done('alb.target-health', { total: 'six' }, 'the summary')))).toContain('the summary');
  });

  it('never crashes on odd field types inside a known shape', () => {
    const odd = {
      ...albOutput,
      targetGroups: [{ name: 7, counts: 'x', reasons: [null, { reason: 1 }], targetsNotHealthy: [{}], healthCheck: { enabled: 'no' } }],
      reasons: { 'Target.Timeout': 'two' },
    };
    expect(() => findingMessage(view, run, done('alb.target-health', odd as unknown as Record<string, unknown>))).not.toThrow();
    const oddEcs = { ...ecsOutput, deployments: [{ status: 1 }], stoppedGroups: [{ containers: [3] }], events: [{ message: null }], exitCodes: null };
    expect(() => findingMessage(view, run, done('ecs.service-status', oddEcs as unknown as Record<string, unknown>))).not.toThrow();
  });

  it('masks secrets and escapes markup planted in an output', () => {
    const planted = {
      ...logsOutput,
      signatures: [{ ...logsOutput.signatures[0], signature: `<!channel> ${SECRET_TEXT}`, sample: SECRET_TEXT }],
    };
    const messages = [
      findingMessage(view, run, done('logs.errors', asOutput(planted), SECRET_TEXT)),
      findingMessage(view, run, done('custom.action', { note: SECRET_TEXT, password: 'hunter2hunter2' }, SECRET_TEXT)),
      findingMessage(view, run, { ...STEPS.failed, error: SECRET_TEXT }),
      findingMessage(view, run, done('ecs.service-status', asOutput({ ...ecsOutput, events: [{ createdAt: null, message: `<!here> ${SECRET_TEXT}` }] }))),
    ];
    for (const message of messages) {
      const json = JSON.stringify(message);
      for (const secret of SECRETS) expect(json).not.toContain(secret);
      expect(json).not.toMatch(/<!channel>|<!here>/);
    }
  });

  it('stays within Slack limits with a huge output', () => {
    const huge = {
      ...logsOutput,
      signatures: Array.from({ length: 200 }, (_, i) => ({ ...logsOutput.signatures[0], signature: `${i} ${'s'.repeat(5000)}`, sample: 'x'.repeat(10_000) })),
    };
    const message = findingMessage(view, run, done('logs.errors', asOutput(huge), 'y'.repeat(10_000)))!;
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    for (const text of textsOf(message)) expect(text.length).toBeLessThanOrEqual(3000);
  });
});
