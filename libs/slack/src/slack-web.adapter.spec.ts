import { LogLevel, type Logger } from '@slack/web-api';
import { startSlackStub, type SlackStub } from '../../../test/support/slack-stub';
import { freePort } from '../../../test/support/net';
import { SlackPermanentError, SlackRetryableError, SlackWeb } from './slack-web.adapter';

const TOKEN = 'xoxb-1111-2222-secretvalue';

const blocks = [
  { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: '*checkout* is down' } },
  { type: 'actions', elements: [{ type: 'button', action_id: 'approval.approve', text: { type: 'plain_text', text: 'Approve' }, value: 'x' }] },
];

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('SlackWeb against the Slack stand-in', () => {
  let stub: SlackStub;
  let slack: SlackWeb;

  beforeAll(async () => {
    stub = await startSlackStub();
    slack = new SlackWeb({ token: TOKEN, apiUrl: stub.apiUrl });
  });
  afterAll(() => stub.close());
  beforeEach(() => stub.reset());

  it('posts a message with blocks and answers the channel ID even for a channel name', async () => {
    const posted = await slack.postMessage({ channel: '#incidents', text: 'checkout is down', blocks });

    expect(posted.channel).toBe(stub.channelId('incidents'));
    expect(posted.channel).toMatch(/^C/);
    const [message] = stub.messages('incidents');
    expect(message).toMatchObject({ ts: posted.ts, text: 'checkout is down', blocks, threadTs: undefined, updates: 0 });
    expect(stub.calls[0].token).toBe(TOKEN);
  });

  it('posts thread replies under the incident message', async () => {
    const parent = await slack.postMessage({ channel: 'C05INCIDENT', text: 'incident' });
    const reply = await slack.postMessage({ channel: 'C05INCIDENT', text: 'finding', threadTs: parent.ts });

    expect(Number(reply.ts)).toBeGreaterThan(Number(parent.ts));
    expect(stub.replies('C05INCIDENT', parent.ts).map((m) => m.text)).toEqual(['finding']);
  });

  it('updates the message in place', async () => {
    const posted = await slack.postMessage({ channel: 'C05INCIDENT', text: 'open', blocks });
    const resolved = [{ type: 'section', text: { type: 'mrkdwn', text: 'resolved' } }];

    await slack.updateMessage({ channel: posted.channel, ts: posted.ts, text: 'resolved', blocks: resolved });

    expect(stub.messages('C05INCIDENT')).toEqual([
      expect.objectContaining({ ts: posted.ts, text: 'resolved', blocks: resolved, updates: 1 }),
    ]);
  });

  it('refuses to update a message Slack does not have, permanently', async () => {
    const err = await rejection(slack.updateMessage({ channel: 'C05INCIDENT', ts: '1.000001', text: 'x' }));

    expect(err).toBeInstanceOf(SlackPermanentError);
    expect(err).toMatchObject({ code: 'message_not_found', method: 'chat.update' });
  });

  it('posts an ephemeral message to one user', async () => {
    const { ts } = await slack.postEphemeral({ channel: 'C05INCIDENT', user: 'U1', text: 'you are not an approver' });

    expect(stub.ephemerals).toEqual([
      expect.objectContaining({ channel: 'C05INCIDENT', user: 'U1', messageTs: ts, text: 'you are not an approver' }),
    ]);
  });

  it('lists the members of a user group', async () => {
    stub.userGroups.set('S1', ['U1', 'U2']);

    await expect(slack.userGroupMembers('S1')).resolves.toEqual(['U1', 'U2']);
    const err = await rejection(slack.userGroupMembers('S404'));
    expect(err).toBeInstanceOf(SlackPermanentError);
    expect(err).toMatchObject({ code: 'no_such_subteam' });
  });

  it('uploads a file into a thread in three steps', async () => {
    const parent = await slack.postMessage({ channel: 'C05INCIDENT', text: 'incident' });
    const content = '# RCA inc-1\n\nRolled back to `checkout:41` — résumé ✓\n';

    const { fileId } = await slack.uploadFile({
      channel: 'C05INCIDENT',
      threadTs: parent.ts,
      filename: 'inc-1-rca.md',
      title: 'RCA inc-1',
      content,
      comment: 'RCA draft',
    });

    expect(stub.uploadsIn('C05INCIDENT', parent.ts)).toEqual([
      expect.objectContaining({ fileId, filename: 'inc-1-rca.md', title: 'RCA inc-1', text: content, initialComment: 'RCA draft' }),
    ]);
    expect(stub.uploads[0].length).toBe(Buffer.byteLength(content));
    expect(stub.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'files.getUploadURLExternal', 'files.completeUploadExternal']);
  });

  it('does not complete an upload whose bytes did not arrive, and says to retry', async () => {
    stub.failNext('upload', 1, { status: 503 });

    const err = await rejection(
      slack.uploadFile({ channel: 'C05INCIDENT', filename: 'a.md', title: 'a', content: 'x' }),
    );

    expect(err).toBeInstanceOf(SlackRetryableError);
    expect(err).toMatchObject({ code: 'http_503' });
    expect(stub.callsTo('files.completeUploadExternal')).toHaveLength(0);
    expect(stub.uploads).toHaveLength(0);
  });

  it('tells who the token is', async () => {
    await expect(slack.authTest()).resolves.toEqual({ userId: 'UBOT', botId: 'BBOT', teamId: 'T1' });
  });

  it('maps a 500 to a retryable error after exactly one call (no hidden retries)', async () => {
    stub.failNext('chat.postMessage', 1, { status: 500 });

    const err = await rejection(slack.postMessage({ channel: 'C05INCIDENT', text: 'x' }));

    expect(err).toBeInstanceOf(SlackRetryableError);
    expect(err).toMatchObject({ code: 'http_500', retryAfterMs: undefined });
    expect(stub.callsTo('chat.postMessage')).toHaveLength(1);
    expect(stub.messages()).toHaveLength(0);
  });

  it('maps a 429 to a retryable error carrying Retry-After, after exactly one call', async () => {
    stub.failNext('chat.update', 1, { status: 429, retryAfter: 7 });

    const err = await rejection(slack.updateMessage({ channel: 'C05INCIDENT', ts: '1.000001', text: 'x' }));

    expect(err).toBeInstanceOf(SlackRetryableError);
    expect(err).toMatchObject({ code: 'ratelimited', retryAfterMs: 7000 });
    expect(stub.callsTo('chat.update')).toHaveLength(1);
  });

  it('maps a 429 without Retry-After to a retryable error too', async () => {
    stub.failNext('chat.postMessage', 1, { status: 429 });

    const err = await rejection(slack.postMessage({ channel: 'C05INCIDENT', text: 'x' }));

    expect(err).toBeInstanceOf(SlackRetryableError);
    expect(stub.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('maps channel_not_found to a permanent error with the Slack code', async () => {
    stub.failNext('chat.postMessage', 1, { error: 'channel_not_found' });

    const err = await rejection(slack.postMessage({ channel: 'C404', text: 'x' }));

    expect(err).toBeInstanceOf(SlackPermanentError);
    expect(err).toMatchObject({ code: 'channel_not_found', method: 'chat.postMessage' });
    expect((err as Error).message).toBe('Slack chat.postMessage failed: channel_not_found');
  });

  it.each(['internal_error', 'service_unavailable', 'fatal_error', 'request_timeout', 'ratelimited'])(
    'treats the transient Slack error %s as retryable',
    async (code) => {
      stub.failNext('chat.postMessage', 1, { error: code });

      const err = await rejection(slack.postMessage({ channel: 'C05INCIDENT', text: 'x' }));

      expect(err).toBeInstanceOf(SlackRetryableError);
      expect(err).toMatchObject({ code });
    },
  );

  it.each(['not_in_channel', 'invalid_auth', 'missing_scope', 'is_archived'])('treats %s as permanent', async (code) => {
    stub.failNext('chat.postMessage', 1, { error: code });

    const err = await rejection(slack.postMessage({ channel: 'C05INCIDENT', text: 'x' }));

    expect(err).toBeInstanceOf(SlackPermanentError);
    expect(err).toMatchObject({ code });
  });

  it('maps a refused connection to a retryable error', async () => {
    const nowhere = new SlackWeb({ token: TOKEN, apiUrl: `http://127.0.0.1:${await freePort()}/api/` });

    const err = await rejection(nowhere.postMessage({ channel: 'C05INCIDENT', text: 'x' }));

    expect(err).toBeInstanceOf(SlackRetryableError);
    expect(err).toMatchObject({ code: 'request_error' });
  });

  it('never puts the token in a log line, an error or the adapter when serialised', async () => {
    const lines: string[] = [];
    const capture = (...msg: unknown[]) => lines.push(msg.map(String).join(' '));
    const logger: Logger = {
      debug: capture,
      info: capture,
      warn: capture,
      error: capture,
      setLevel: () => undefined,
      getLevel: () => LogLevel.DEBUG,
      setName: () => undefined,
    };
    const logged = new SlackWeb({ token: TOKEN, apiUrl: stub.apiUrl, logger });
    stub.failNext('chat.postMessage', 1, { error: 'invalid_auth' });

    const err = await rejection(logged.postMessage({ channel: 'C05INCIDENT', text: 'x' }));
    await logged.postMessage({ channel: 'C05INCIDENT', text: 'x' });

    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain('secretvalue');
    expect(JSON.stringify(err)).not.toContain('secretvalue');
    expect(String((err as Error).stack)).not.toContain('secretvalue');
    expect(JSON.stringify(logged)).not.toContain('secretvalue');
  });
});
