import { goalMissedMessage } from './goal.message';
import { stakeholderMessage } from './stakeholder.message';
import { APPROVERS, SECRET_TEXT, makeRun, makeStep, makeView, textsOf } from '../../../../test/fixtures/slack/views';

const missed = makeStep({
  id: 'rollback',
  action: 'deploy.rollback',
  mutating: true,
  status: 'failed',
  goal: 'missed',
  plan: 'roll back prod/checkout from checkout:42 to checkout:41',
  approvers: APPROVERS,
  error: 'deploy.rollback: the call was made (rolled back) but its goal not met within 10 min (40 checks): checkout-5xx is ALARM',
});

describe('goalMissedMessage', () => {
  it('is loud: says the mitigation did not work, the incident is not mitigated, what the checks saw, and pings the approvers', () => {
    const view = makeView();
    const texts = textsOf(goalMissedMessage(view, makeRun([missed]), missed)).join('\n');
    expect(texts).toContain(':rotating_light: *Mitigation did not work*');
    expect(texts).toContain('*The incident is not mitigated.*');
    expect(texts).toContain('checkout-5xx is ALARM');
    for (const id of [...APPROVERS.slackUsers]) expect(texts).toContain(`<@${id}>`);
    for (const id of [...APPROVERS.slackUserGroups]) expect(texts).toContain(`<!subteam^${id}>`);
    expect(goalMissedMessage(view, makeRun([missed]), missed)).toMatchSnapshot();
  });

  it('escapes what it quotes, and says who must take over when the catalog names nobody', () => {
    const step = { ...missed, error: `goal missed <!channel> ${SECRET_TEXT}`, approvers: { slackUsers: [], slackUserGroups: [] } };
    const texts = textsOf(goalMissedMessage(makeView(), makeRun([step]), step)).join('\n');
    expect(texts).not.toContain('<!channel>');
    expect(texts).toContain('the on-call engineer must take over');
  });

  it('the stakeholders hear of a setback in plain words', () => {
    const texts = textsOf(stakeholderMessage(makeView(), 'setback', 30)).join('\n');
    expect(texts).toContain('is still having problems');
    expect(texts).toContain('did not restore it');
  });
});
