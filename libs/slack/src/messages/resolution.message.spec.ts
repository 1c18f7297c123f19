import { resolutionMessage } from './resolution.message';
import { ALICE, BOB, INCIDENT_ID, STEPS, makeRun, resolvedView } from '../../../../test/fixtures/slack/views';

describe('resolutionMessage', () => {
  it('renders what was done, what was not, and where the RCA is', () => {
    expect(resolutionMessage(resolvedView())).toMatchSnapshot();
  });

  it('says how long it lasted from the onset, who approved each change, and what was refused', () => {
    const json = JSON.stringify(resolutionMessage(resolvedView()));
    expect(json).toContain('lasted *42m 30s* from the onset');
    expect(json).toContain(`approved by <@${ALICE}> and <@${BOB}>`);
    expect(json).toContain(`rejected by <@${BOB}>: traffic is already dropping`);
    expect(json).toContain('`failover` aurora.failover: *skipped*');
    expect(json).toContain(`/incident rca ${INCIDENT_ID}`);
  });

  it('says when no change was made', () => {
    const view = resolvedView({ runs: [makeRun([STEPS.succeeded], { status: 'succeeded' })] });
    expect(JSON.stringify(resolutionMessage(view))).toContain('No change was made: diagnostics only.');
  });

  it('renders a dry-run resolution', () => {
    const view = resolvedView({ mode: 'dry-run', runs: [makeRun([STEPS.succeeded, STEPS.dryRun], { status: 'succeeded' })] });
    const message = resolutionMessage(view);
    expect(message).toMatchSnapshot();
    expect(JSON.stringify(message)).toContain('dry run: not called');
  });

  it('lists a dry-run step with what was not done, never as a change made', () => {
    const view = resolvedView({ mode: 'dry-run', runs: [makeRun([STEPS.succeeded, { ...STEPS.dryRun, status: 'dry-run' }], { status: 'succeeded' })] });
    const json = JSON.stringify(resolutionMessage(view));
    expect(json).toContain('_No change was made: diagnostics only._');
    expect(json).toMatch(/\*Not done\*\\n• :test_tube: `scale-up` ecs.scale-up: \*dry run: not called\*/);
  });
});
