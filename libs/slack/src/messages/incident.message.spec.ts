import { incidentMessage } from './incident.message';
import { ALICE, INCIDENT_ID, NOW, SECRETS, SECRET_TEXT, STEPS, alarm, makeRun, makeStep, makeView, mrkdwnOf, resolvedView, textsOf } from '../../../../test/fixtures/slack/views';
import type { StepView } from '../view';

describe('incidentMessage', () => {
  it('renders an open incident with its alarm, run and steps', () => {
    expect(incidentMessage(makeView())).toMatchSnapshot();
  });

  it('renders a resolved incident with its duration to the resolution', () => {
    const message = incidentMessage(resolvedView());
    expect(message).toMatchSnapshot();
    expect(JSON.stringify(message)).toContain('*Lasted*\\n42m 30s');
  });

  it('measures the elapsed time to view.now while open', () => {
    expect(JSON.stringify(incidentMessage(makeView({ now: NOW })))).toContain('*Elapsed*\\n22m 10s');
  });

  it('shows the dry-run and kill-switch banners', () => {
    const message = incidentMessage(makeView({ mode: 'dry-run', paused: { by: ALICE, at: '2026-11-22T18:15:00.000Z', reason: 'investigating by hand' } }));
    expect(message).toMatchSnapshot();
    const text = JSON.stringify(message);
    expect(text).toContain('Dry run: nothing is changed.');
    expect(text).toContain(`kill switch is on (by <@${ALICE}>`);
  });

  it('while paused: says the kill switch holds mutating steps and diagnostics go on, and a held step is not shown as about to run', () => {
    const paused = { by: ALICE, at: '2026-11-22T18:15:00.000Z' };
    const approved: StepView = { ...STEPS.grantedByPerson, status: 'queued', startedAt: undefined, finishedAt: undefined, summary: undefined };
    const text = mrkdwnOf(incidentMessage(makeView({ paused, runs: [makeRun([approved, STEPS.queued, STEPS.grantedByTwo])] }))).join('\n');
    expect(text).not.toContain('No new step starts');
    expect(text).toContain('No mutating step starts until `/incident resume` (one already calling AWS completes); diagnostics go on.');
    expect(text).toContain('`scale-up` ecs.scale-up: *held: automation paused* · UpdateService prod/checkout desiredCount 4 → 8 · approved by <@U01ALICE0> · runs after `/incident resume`');
    expect(text).not.toMatch(/\*queued\* · UpdateService/);
    // A read-only step is not held; a mutating one already running completes.
    expect(text).toContain('`logs` logs.errors: *queued*');
    expect(text).toMatch(/ecs\.scale-up: \*running\*/);
  });

  it('renders an unrouted incident with no run yet', () => {
    expect(incidentMessage(makeView({ service: null, runs: [] }))).toMatchSnapshot();
  });

  describe.each(Object.entries(STEPS) as Array<[string, StepView]>)('a step %s', (_name, step) => {
    it('renders its line', () => {
      const message = incidentMessage(makeView({ runs: [makeRun([step])] }));
      expect(message.blocks.find((b) => b.type === 'section' && b.text?.text.startsWith('*Runbook*'))).toMatchSnapshot();
    });
  });

  it('names who approved, and a policy as an auto-approval', () => {
    const line = (step: StepView) => JSON.stringify(incidentMessage(makeView({ runs: [makeRun([step])] })));
    expect(line(STEPS.grantedByPerson)).toContain(`approved by <@${ALICE}>`);
    expect(line(STEPS.grantedByTwo)).toContain('approved by <@U01ALICE0> and <@U02BOB000>');
    expect(line(STEPS.grantedByPolicy)).toContain('auto-approved by policy _business-hours-scale-up_');
    expect(line(STEPS.awaitingTwo)).toContain('needs two different approvers, 1 of 2 so far: <@U01ALICE0>');
    expect(line(STEPS.dryRun)).toContain('dry run: not called');
    const dryRunStatus = line({ ...STEPS.dryRun, status: 'dry-run' });
    expect(dryRunStatus).toContain(':test_tube: `scale-up` ecs.scale-up: *dry run: not called*');
    expect(dryRunStatus).not.toContain('*succeeded*');
  });

  it('stays within 50 blocks and 3000 characters a text with 60 steps and a 10 KB alarm reason', () => {
    const steps = Array.from({ length: 60 }, (_, i) =>
      makeStep({ id: `step-${i}`, action: 'logs.errors', status: 'failed', error: `boom ${'e'.repeat(2000)}`, startedAt: NOW, finishedAt: NOW }),
    );
    const view = makeView({
      alarms: Array.from({ length: 12 }, (_, i) => ({ ...alarm, name: `alarm-${i}`, reason: 'r'.repeat(10_000) })),
      runs: [makeRun(steps), makeRun(steps, { id: 'run-2' })],
    });
    const message = incidentMessage(view);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    for (const text of textsOf(message)) expect(text.length).toBeLessThanOrEqual(3000);
    expect(message.blocks.at(-1)).toEqual(expect.objectContaining({ type: 'context' }));
    expect(JSON.stringify(message)).toContain(INCIDENT_ID);
  });

  it('escapes markup and masks secrets from the alarm reason and step texts', () => {
    const view = makeView({
      alarms: [{ ...alarm, reason: `<script>alert(1)</script> <!channel> ${SECRET_TEXT}` }],
      runs: [makeRun([{ ...STEPS.failed, error: SECRET_TEXT }, { ...STEPS.succeeded, summary: `<!here> ${SECRET_TEXT}` }])],
    });
    const message = incidentMessage(view);
    const json = JSON.stringify(message);
    for (const secret of SECRETS) expect(json).not.toContain(secret);
    for (const text of mrkdwnOf(message)) {
      expect(text).not.toMatch(/<script|<!channel>|<!here>/);
    }
    expect(json).toContain('&lt;!channel&gt;');
  });
});
