import { App, ExpressReceiver, LogLevel, SocketModeReceiver, verifySlackRequest } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { Server } from 'node:http';
import { freePort } from './net';
import { blockActionsBody, blockActionsPayload, signSlackRequest, slashCommandBody, slashCommandPayload } from './slack-sign';
import { startSlackStub, type SlackStub } from './slack-stub';

// The stand-in and the request builders are test infrastructure other tests trust: these check
// them against the real clients (WebClient, Bolt over HTTP and over Socket Mode), not against
// themselves.

const SECRET = 'test-signing-secret';
const BOT = 'xoxb-test-bot';
const APP = 'xapp-1-test-app';

describe('Slack stand-in', () => {
  let stub: SlackStub;

  beforeAll(async () => {
    stub = await startSlackStub();
  });
  afterAll(() => stub.close());
  beforeEach(() => stub.reset());

  describe('Web API', () => {
    const client = (token = BOT) => new WebClient(token, { slackApiUrl: stub.apiUrl, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });

    it('answers not_authed to a call without a token and records it', async () => {
      await expect(client('').auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
      expect(stub.calls).toEqual([expect.objectContaining({ method: 'auth.test', token: undefined, ok: false, error: 'not_authed' })]);
    });

    it('answers unknown_method for methods it does not implement', async () => {
      await expect(client().apiCall('pins.add', { channel: 'C1' })).rejects.toMatchObject({ data: { error: 'unknown_method' } });
    });

    it('keeps app-level tokens to apps.connections.open, as Slack does', async () => {
      await expect(client(APP).auth.test()).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
      await expect(client(BOT).apps.connections.open()).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
      await expect(client(APP).apps.connections.open()).resolves.toMatchObject({ url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/socket\?/) });
    });

    it('gives a failed call no effect and lets the next one through', async () => {
      stub.failNext('chat.postMessage', 1, { error: 'channel_not_found' });

      await expect(client().chat.postMessage({ channel: 'C1', text: 'a' })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
      const ok = await client().chat.postMessage({ channel: 'C1', text: 'b' });

      expect(stub.messages('C1')).toEqual([expect.objectContaining({ ts: ok.ts, text: 'b' })]);
      expect(stub.callsTo('chat.postMessage').map((c) => [c.ok, c.injected])).toEqual([
        [false, true],
        [true, false],
      ]);
    });

    it('during an outage fails every call (after the queued failures), with no effect, until it ends', async () => {
      // As Responder's adapter has it: a 429 is handed back, not waited out.
      const web = new WebClient(BOT, { slackApiUrl: stub.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logLevel: LogLevel.ERROR });
      stub.failNext('chat.update', 1, { error: 'message_not_found' });
      stub.outage({ status: 429, retryAfter: 3 });

      await expect(web.chat.update({ channel: 'C1', ts: '1.0', text: 'a' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
      await expect(web.chat.update({ channel: 'C1', ts: '1.0', text: 'a' })).rejects.toMatchObject({ code: 'slack_webapi_rate_limited_error', retryAfter: 3 });
      await expect(web.chat.postMessage({ channel: 'C1', text: 'a' })).rejects.toMatchObject({ code: 'slack_webapi_rate_limited_error' });
      stub.outage(null);
      await client().chat.postMessage({ channel: 'C1', text: 'b' });

      expect(stub.messages('C1').map((m) => m.text)).toEqual(['b']);
      expect(stub.calls.map((c) => [c.method, c.status, c.injected])).toEqual([
        ['chat.update', 200, true],
        ['chat.update', 429, true],
        ['chat.postMessage', 429, true],
        ['chat.postMessage', 200, false],
      ]);
    });

    it('gives increasing ts values', async () => {
      const a = await client().chat.postMessage({ channel: 'C1', text: 'a' });
      const b = await client().chat.postMessage({ channel: 'C1', text: 'b' });
      expect(a.ts).toMatch(/^\d{10}\.\d{6}$/);
      expect(Number(b.ts)).toBeGreaterThan(Number(a.ts));
    });

    it("takes WebClient.filesUploadV2's multipart upload too", async () => {
      await client().filesUploadV2({ channel_id: 'C1', thread_ts: '1700000000.000100', filename: 'rca.md', title: 'RCA', content: '# RCA\n' });

      expect(stub.uploadsIn('C1', '1700000000.000100')).toEqual([expect.objectContaining({ filename: 'rca.md', title: 'RCA', text: '# RCA\n' })]);
    });

    it('waitFor resolves with the first truthy value and times out with the last calls', async () => {
      setTimeout(() => void client().chat.postMessage({ channel: 'C1', text: 'later' }), 50);
      const message = await stub.waitFor((s) => s.messages('C1').find((m) => m.text === 'later'), 2000);
      expect(message.text).toBe('later');
      await expect(stub.waitFor(() => false, 50)).rejects.toThrow(/chat\.postMessage:ok/);
    });
  });

  describe('signed requests', () => {
    it('signs the way Bolt verifies, and an old timestamp is refused', () => {
      const body = slashCommandBody({ text: 'list' });
      const headers = signSlackRequest(SECRET, body);
      const verify = (h: typeof headers) =>
        verifySlackRequest({
          signingSecret: SECRET,
          body,
          headers: { 'x-slack-signature': h['x-slack-signature'], 'x-slack-request-timestamp': Number(h['x-slack-request-timestamp']) },
        });

      expect(() => verify(headers)).not.toThrow();
      expect(() => verify(signSlackRequest(SECRET, body, Math.floor(Date.now() / 1000) - 600))).toThrow(/stale|old|timestamp/i);
      expect(() => verify(signSlackRequest('another-secret', body))).toThrow();
    });

    it('builds payloads with the fields asked for and the rest from the captured fixtures', () => {
      const click = blockActionsPayload({ userId: 'U9', actionId: 'approval.reject', value: 'v', blockId: 'b', channelId: 'C9', messageTs: '1.000002', responseUrl: 'http://x/r' });
      expect(click).toMatchObject({
        type: 'block_actions',
        user: { id: 'U9' },
        container: { type: 'message', channel_id: 'C9', message_ts: '1.000002' },
        channel: { id: 'C9' },
        message: { ts: '1.000002' },
        response_url: 'http://x/r',
        actions: [{ type: 'button', action_id: 'approval.reject', block_id: 'b', value: 'v' }],
      });
      expect(slashCommandPayload({ text: 'rca inc-1', userId: 'U9' })).toMatchObject({ command: '/incident', text: 'rca inc-1', user_id: 'U9', api_app_id: expect.any(String) });
    });
  });

  describe('Bolt over HTTP', () => {
    let server: Server;
    let url: string;
    const clicks: { user: string; value: string | undefined }[] = [];

    beforeAll(async () => {
      const receiver = new ExpressReceiver({ signingSecret: SECRET, logLevel: LogLevel.ERROR });
      const app = new App({ token: BOT, receiver, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: stub.apiUrl, retryConfig: { retries: 0 } } });
      app.action('approval.approve', async ({ ack, body, action, respond }) => {
        await ack();
        clicks.push({ user: body.user.id, value: 'value' in action ? action.value : undefined });
        await respond({ text: 'approved', replace_original: false });
      });
      app.command('/incident', async ({ ack, command, respond }) => {
        await ack({ text: `working on: ${command.text}` });
        await respond({ text: 'done' });
      });
      const port = await freePort();
      server = await receiver.start(port);
      url = `http://127.0.0.1:${port}/slack/events`;
    });
    afterAll(() => new Promise<void>((done) => server.close(() => done())));

    it('runs the action listener for a signed click, and respond() reaches the response_url', async () => {
      const body = blockActionsBody({ userId: 'U1', actionId: 'approval.approve', value: 'inc-1/rollback', responseUrl: stub.responseUrl('click-1') });

      const res = await fetch(url, { method: 'POST', headers: signSlackRequest(SECRET, body), body });

      expect(res.status).toBe(200);
      await stub.waitFor((s) => s.responses.find((r) => r.id === 'click-1'));
      expect(clicks).toEqual([{ user: 'U1', value: 'inc-1/rollback' }]);
      expect(stub.responses[0].body).toEqual({ text: 'approved', replace_original: false });
      expect(stub.callsTo('auth.test')).toEqual([expect.objectContaining({ ok: true, token: BOT })]);
    });

    it('answers a slash command with its ack and respond()', async () => {
      const body = slashCommandBody({ text: 'status inc-1', responseUrl: stub.responseUrl('cmd-1') });

      const res = await fetch(url, { method: 'POST', headers: signSlackRequest(SECRET, body), body });

      expect(await res.json()).toEqual({ text: 'working on: status inc-1' });
      await expect(stub.waitFor((s) => s.responses.find((r) => r.id === 'cmd-1'))).resolves.toMatchObject({ body: { text: 'done' } });
    });

    it('refuses an unsigned request', async () => {
      const body = slashCommandBody({ text: 'list' });
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      expect(res.status).toBe(401);
    });
  });

  describe('Socket Mode', () => {
    it('delivers a block_actions envelope to a Bolt socket-mode app and receives its ack', async () => {
      const app = new App({
        token: BOT,
        appToken: APP,
        socketMode: true,
        logLevel: LogLevel.ERROR,
        // The same clientOptions reach the SocketModeClient (through installerOptions), so its
        // apps.connections.open goes to the stand-in too.
        clientOptions: { slackApiUrl: stub.apiUrl, retryConfig: { retries: 0 } },
      });
      const seen: string[] = [];
      app.action('approval.approve', async ({ ack, body }) => {
        await ack();
        seen.push(body.user.id);
      });
      app.command('/incident', async ({ ack, command }) => {
        await ack({ text: `ok: ${command.text}` });
      });
      await app.start();
      try {
        expect(stub.callsTo('apps.connections.open')).toEqual([expect.objectContaining({ ok: true, token: APP })]);
        expect(stub.socketConnections).toBe(1);

        const click = stub.socketSend({ type: 'interactive', payload: blockActionsPayload({ userId: 'U7', actionId: 'approval.approve' }), accepts_response_payload: false });
        const command = stub.socketSend({ type: 'slash_commands', payload: slashCommandPayload({ text: 'list' }), accepts_response_payload: true });

        await stub.waitFor((s) => s.socketAcks.some((a) => a.envelope_id === click) && s.socketAcks.some((a) => a.envelope_id === command));
        expect(seen).toEqual(['U7']);
        expect(stub.socketAcks.find((a) => a.envelope_id === command)?.payload).toEqual({ text: 'ok: list' });
      } finally {
        // Bolt's stop() does not wait for the close handshake.
        await app.stop();
      }
      await stub.waitFor((s) => s.socketConnections === 0);
    });

    it('keeps the connection through the client ping/pong checks', async () => {
      // A short ping timeout makes the client ping every 100 ms and drop a connection that misses
      // three pongs, so a second of quiet proves the stand-in answers them.
      const receiver = new SocketModeReceiver({
        appToken: APP,
        clientPingTimeout: 300,
        logLevel: LogLevel.ERROR,
        installerOptions: { clientOptions: { slackApiUrl: stub.apiUrl, retryConfig: { retries: 0 } } },
      });
      const app = new App({ token: BOT, receiver, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: stub.apiUrl, retryConfig: { retries: 0 } } });
      const seen: string[] = [];
      app.action('approval.approve', async ({ ack }) => {
        await ack();
        seen.push('click');
      });
      await app.start();
      try {
        await new Promise((r) => setTimeout(r, 1000));
        expect(stub.callsTo('apps.connections.open')).toHaveLength(1);
        const id = stub.socketSend({ type: 'interactive', payload: blockActionsPayload() });
        await stub.waitFor((s) => s.socketAcks.find((a) => a.envelope_id === id));
        expect(seen).toEqual(['click']);
      } finally {
        await app.stop();
      }
      await stub.waitFor((s) => s.socketConnections === 0);
    });
  });
});
