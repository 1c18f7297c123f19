import type { AnyMiddlewareArgs, Logger } from '@slack/bolt';
import { onlyTeam, teamsOf } from './team.middleware';

function logger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (...msg: unknown[]) => lines.push(msg.join(' '));
  return { lines, debug: log, info: log, warn: log, error: log, setLevel: () => undefined, getLevel: () => 'info' as never, setName: () => undefined };
}

/** The arguments Bolt passes a global middleware, with spies for ack and next. */
function args(body: Record<string, unknown>, teamId: string | undefined, withAck = true) {
  const calls: string[] = [];
  const a = {
    body,
    context: { teamId, isEnterpriseInstall: false },
    next: () => {
      calls.push('next');
      return Promise.resolve();
    },
    ...(withAck
      ? {
          ack: () => {
            calls.push('ack');
            return Promise.resolve();
          },
        }
      : {}),
  } as unknown as AnyMiddlewareArgs & { context: { teamId?: string }; next: () => Promise<void> };
  return { a, calls };
}

const click = (team: string, userTeam = team) => ({ type: 'block_actions', user: { id: 'U0ALICE01', team_id: userTeam }, team: { id: team } });

describe('onlyTeam (SLACK_TEAM_ID)', () => {
  it('passes a click, a command and an event of the team on to the listeners', async () => {
    const log = logger();
    for (const [body, team] of [
      [click('T0OURS001'), 'T0OURS001'],
      [{ command: '/incident', team_id: 'T0OURS001', user_id: 'U0ALICE01' }, 'T0OURS001'],
      [{ type: 'event_callback', team_id: 'T0OURS001', event: { type: 'app_mention' } }, 'T0OURS001'],
    ] as const) {
      const { a, calls } = args(body, team);
      await onlyTeam('T0OURS001', log)(a as never);
      expect(calls).toEqual(['next']);
    }
    expect(log.lines).toEqual([]);
  });

  it('acknowledges, logs and drops a request of another team, of a user of another team, or naming no team', async () => {
    const cases: Array<[Record<string, unknown>, string | undefined, RegExp]> = [
      [click('T0THEIRS1'), 'T0THEIRS1', /ignored a Slack block_actions by U0ALICE01 from team T0THEIRS1: only team T0OURS001/],
      [click('T0OURS001', 'T0THEIRS1'), 'T0OURS001', /from team T0OURS001, T0THEIRS1/],
      [{ command: '/incident', team_id: 'T0THEIRS1', user_id: 'U0MALLORY' }, 'T0THEIRS1', /ignored a Slack command \/incident by U0MALLORY from team T0THEIRS1/],
      [{ type: 'block_actions', user: { id: 'U0ALICE01' } }, undefined, /from team \(none\)/],
    ];
    for (const [body, team, line] of cases) {
      const log = logger();
      const { a, calls } = args(body, team);
      await onlyTeam('T0OURS001', log)(a as never);
      expect(calls).toEqual(['ack']);
      expect(log.lines).toEqual([expect.stringMatching(line)]);
    }
  });

  it('drops an event of another team without an ack of its own (Bolt acknowledged it already)', async () => {
    const { a, calls } = args({ type: 'event_callback', team_id: 'T0THEIRS1', event: { type: 'app_mention' } }, 'T0THEIRS1', false);
    await onlyTeam('T0OURS001', logger())(a as never);
    expect(calls).toEqual([]);
  });

  it('reads every team a body names, once', () => {
    expect(teamsOf(click('T1', 'T2'), { teamId: 'T1' })).toEqual(['T1', 'T2']);
    expect(teamsOf({ team_id: 'T1' }, { teamId: undefined })).toEqual(['T1']);
    expect(teamsOf(null, { teamId: undefined })).toEqual([]);
  });
});
