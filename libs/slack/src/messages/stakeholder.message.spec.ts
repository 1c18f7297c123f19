import { plainDuration, stakeholderMessage } from './stakeholder.message';
import { ALARM_ARN, SECRETS, SECRET_TEXT, STEPS, TG_ARN, alarm, makeRun, makeView, resolvedView, textsOf } from '../../../../test/fixtures/slack/views';
import type { StakeholderPhase } from './stakeholder.message';

const phases: StakeholderPhase[] = ['opened', 'mitigated', 'resolved'];

describe('stakeholderMessage', () => {
  it.each(phases)('renders the %s update', (phase) => {
    const view = phase === 'resolved' ? resolvedView() : makeView();
    expect(stakeholderMessage(view, phase, 30)).toMatchSnapshot();
  });

  it('says what is being done, and when the next update comes until resolved', () => {
    expect(JSON.stringify(stakeholderMessage(makeView(), 'opened', 30))).toContain('on-call engineers are investigating');
    expect(JSON.stringify(stakeholderMessage(makeView(), 'opened', 30))).toContain('Next update within 30 minutes.');
    expect(JSON.stringify(stakeholderMessage(makeView(), 'mitigated', 15))).toContain('A fix has been applied');
    const resolved = JSON.stringify(stakeholderMessage(resolvedView(), 'resolved', 30));
    expect(resolved).toContain('resolved after 42 minutes');
    expect(resolved).not.toContain('Next update');
  });

  it('leaks no internals: no step ids, ARNs, alarm names or reasons, titles or secrets', () => {
    const view = makeView({
      title: `checkout-5xx ${SECRET_TEXT}`,
      alarms: [{ ...alarm, reason: `Threshold Crossed ${SECRET_TEXT} ${TG_ARN}` }],
      runs: [makeRun(Object.values(STEPS))],
    });
    for (const phase of phases) {
      const texts = textsOf(stakeholderMessage({ ...view, resolvedAt: phase === 'resolved' ? view.now : null }, phase, 30)).join('\n');
      expect(texts).not.toMatch(/arn:aws|Threshold|checkout-5xx|scale-up|alb\.target-health|inc_|ecs\.|`/);
      expect(texts).not.toContain(ALARM_ARN);
      for (const secret of SECRETS) expect(texts).not.toContain(secret);
    }
  });

  it('speaks of "one of our services" for an unrouted incident', () => {
    expect(JSON.stringify(stakeholderMessage(makeView({ service: null }), 'opened', 30))).toContain('One of our services is having problems');
  });

  it.each([
    [20_000, 'less than a minute'],
    [119_000, '1 minute'],
    [60_000, '1 minute'],
    [42 * 60_000, '42 minutes'],
    [65 * 60_000, '1 hour 5 minutes'],
    [120 * 60_000, '2 hours'],
  ])('says %i ms as "%s"', (ms, words) => {
    expect(plainDuration(ms)).toBe(words);
  });
});
