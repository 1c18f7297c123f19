import { commandHelpMessage, incidentListMessage, incidentStatusMessage } from './command.message';
import { incidentMessage } from './incident.message';
import { INCIDENT_ID, NOW, OPENED, makeView, mrkdwnOf, textsOf } from './fixtures';

describe('/incident replies', () => {
  it('answers an empty list with "No open incidents."', () => {
    const message = incidentListMessage([], NOW);
    expect(message.text).toBe('No open incidents.');
    expect(message).toMatchSnapshot();
  });

  it('lists incidents with how long each has been open', () => {
    const message = incidentListMessage(
      [
        { id: INCIDENT_ID, service: 'checkout', title: 'checkout-5xx: ALB 5xx above 5% for 3 minutes', status: 'open', openedAt: OPENED },
        { id: 'inc_01JD3KZZZZZZ', service: null, title: 'orders <!channel> & latency', status: 'open', openedAt: '2026-11-22T16:00:00.000Z' },
      ],
      NOW,
    );
    expect(message).toMatchSnapshot();
    const json = JSON.stringify(message);
    expect(json).toContain('open for 21m 30s');
    expect(json).toContain('open for 2h 25m');
    for (const text of mrkdwnOf(message)) expect(text).not.toContain('<!channel>');
  });

  it('keeps a list of 500 incidents within Slack limits', () => {
    const items = Array.from({ length: 500 }, (_, i) => ({ id: `inc_${i}`, service: 'svc', title: 't'.repeat(200), status: 'open', openedAt: OPENED }));
    const message = incidentListMessage(items, NOW);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    for (const text of textsOf(message)) expect(text.length).toBeLessThanOrEqual(3000);
  });

  it('answers status with the incident message', () => {
    const view = makeView();
    expect(incidentStatusMessage(view)).toEqual(incidentMessage(view));
  });

  it('lists every command in the help', () => {
    const message = commandHelpMessage();
    expect(message).toMatchSnapshot();
    const text = JSON.stringify(message);
    for (const usage of ['list', 'status &lt;id&gt;', 'rca &lt;id&gt;', 'note &lt;id&gt; &lt;text&gt;', 'postmortem &lt;id&gt; owner @user', 'postmortem &lt;id&gt; status &lt;draft|review|published&gt;', 'pause [reason]', 'resume', 'run &lt;runbook&gt; &lt;service&gt;']) {
      expect(text).toContain(`/incident ${usage}\``);
    }
  });
});
