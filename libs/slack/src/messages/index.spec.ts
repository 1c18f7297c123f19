import {
  type SlackMessage,
  approvalDecidedMessage,
  approvalReminderMessage,
  approvalRequestMessage,
  approvalSupersededMessage,
  approvalTimedOutMessage,
  commandHelpMessage,
  findingMessage,
  incidentListMessage,
  incidentMessage,
  incidentStatusMessage,
  resolutionMessage,
  stakeholderMessage,
} from './index';
import {
  NOW,
  SECRETS,
  SECRET_TEXT,
  STEPS,
  albOutput,
  alarm,
  asOutput,
  auroraOutput,
  deployOutput,
  ecsOutput,
  logsOutput,
  makeRun,
  makeStep,
  metricsOutput,
  mrkdwnOf,
  resolvedView,
  textsOf,
  verifyOutput,
} from '../../../../test/fixtures/slack/views';
import type { StepView } from '../view';

/** Plants the secret text and markup in every free-text field a view has. */
function planted(step: StepView): StepView {
  const dirty = `<!channel> <script>x</script> ${SECRET_TEXT}`;
  return {
    ...step,
    plan: step.plan ? `${step.plan} ${dirty}` : undefined,
    summary: dirty,
    error: step.error ? dirty : undefined,
    reason: dirty,
    params: step.params ? { ...step.params, password: 'hunter2hunter2', note: dirty } : undefined,
  };
}

const outputs: Array<[string, Record<string, unknown>]> = [
  ['alb.target-health', asOutput(albOutput)],
  ['ecs.service-status', asOutput(ecsOutput)],
  ['logs.errors', asOutput({ ...logsOutput, signatures: logsOutput.signatures.map((s) => ({ ...s, signature: `${s.signature} ${SECRET_TEXT}`, sample: SECRET_TEXT })) })],
  ['cloudwatch.metrics', asOutput({ ...metricsOutput, metrics: metricsOutput.metrics.map((m) => ({ ...m, label: `${m.label} <!channel> ${SECRET_TEXT}` })) })],
  ['deploy.recent', asOutput(deployOutput)],
  ['aurora.health', asOutput({ ...auroraOutput, reasons: [SECRET_TEXT, '<!channel>'] })],
  ['verify.recovery', asOutput({ ...verifyOutput, alarms: [{ name: 'a', state: 'ALARM', reason: `<!channel> ${SECRET_TEXT}`, updatedAt: NOW }] })],
  ['custom.thing', { detail: SECRET_TEXT, password: 'hunter2hunter2', markup: '<!channel>' }],
];

function everyMessage(): SlackMessage[] {
  const mutating = Object.values(STEPS).filter((s) => s.mutating).map(planted);
  const readOnly = outputs.map(([action, output]) =>
    planted(makeStep({ id: action, action, status: 'succeeded', startedAt: NOW, finishedAt: NOW, output })),
  );
  const big = Array.from({ length: 60 }, (_, i) => planted(makeStep({ id: `s${i}`, action: 'logs.errors', status: 'failed', error: 'x', startedAt: NOW, finishedAt: NOW })));
  const view = resolvedView({
    title: 'checkout down',
    mode: 'dry-run',
    paused: { by: 'alice@example.com', at: NOW, reason: `<!channel> ${SECRET_TEXT}` },
    alarms: [{ ...alarm, reason: `<!channel> <script>alert(1)</script> ${SECRET_TEXT} ${'r'.repeat(10_000)}` }],
    runs: [makeRun([...mutating, ...readOnly, planted(STEPS.failed)]), makeRun(big, { id: 'run-big' })],
  });
  const run = view.runs[0];
  return [
    incidentMessage(view),
    incidentStatusMessage(view),
    resolutionMessage(view),
    ...(['opened', 'mitigated', 'resolved'] as const).map((phase) => stakeholderMessage(view, phase, 30)),
    ...[...readOnly, planted(STEPS.failed)].map((s) => findingMessage(view, run, s)!),
    ...mutating.flatMap((s) => [
      approvalRequestMessage(view, run, s),
      approvalDecidedMessage(view, run, s),
      approvalSupersededMessage(view, run, s, `old ${SECRET_TEXT} <!channel>`),
      approvalReminderMessage(view, run, s),
      approvalTimedOutMessage(view, run, s),
    ]),
    incidentListMessage([{ id: view.id, service: 'checkout', title: `<!channel> ${SECRET_TEXT}`, status: 'open', openedAt: NOW }], NOW),
    commandHelpMessage(),
  ];
}

describe('every message builder', () => {
  const messages = everyMessage();

  it('builds a message for every case', () => {
    expect(messages.every((m) => m && m.blocks.length > 0 && m.text.length > 0)).toBe(true);
  });

  it('stays within 50 blocks and 3000 characters per text', () => {
    for (const message of messages) {
      expect(message.blocks.length).toBeLessThanOrEqual(50);
      for (const text of textsOf(message)) expect(text.length).toBeLessThanOrEqual(3000);
    }
  });

  it('never lets a planted secret through', () => {
    for (const message of messages) {
      const json = JSON.stringify(message);
      for (const secret of SECRETS) expect(json).not.toContain(secret);
    }
  });

  it('escapes markup planted in free text', () => {
    for (const message of messages) {
      for (const text of mrkdwnOf(message)) expect(text).not.toMatch(/<!channel>|<script/);
    }
  });

  it('keeps header and button texts within their limits', () => {
    for (const message of messages) {
      for (const block of message.blocks) {
        if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(150);
        if (block.type === 'actions') {
          expect(block.block_id!.length).toBeLessThanOrEqual(255);
          for (const e of block.elements) if (e.type === 'button') expect(e.value!.length).toBeLessThanOrEqual(2000);
        }
      }
    }
  });
});
