import { lostIncidentMessage } from './index';

describe('lostIncidentMessage', () => {
  it('names the incident, says why it is gone and that the thread and its buttons are dead', () => {
    const message = lostIncidentMessage('inc_01M98NR2MG6GS6S2HY');
    expect(message.text).toBe("Incident inc_01M98NR2MG6GS6S2HY is no longer in Responder's store: this thread is no longer updated");
    const body = JSON.stringify(message.blocks);
    expect(body).toContain('`inc_01M98NR2MG6GS6S2HY`');
    expect(body).toContain('Redis came back without its last writes');
    expect(body).toContain('its buttons do nothing');
  });

  it('does not let an id format the message', () => {
    expect(JSON.stringify(lostIncidentMessage('<!channel>*x*').blocks)).not.toContain('<!channel>');
  });
});
