import type { AnyMiddlewareArgs, Context, Logger, Middleware } from '@slack/bolt';

/**
 * The Slack workspace (team) ids a request names: the one it came from (Bolt's `context.teamId`)
 * and, for interactions and commands, the user's own team and the team field of the body (a user
 * of another organisation can click in a shared Slack Connect channel).
 */
export function teamsOf(body: unknown, context: Pick<Context, 'teamId'>): string[] {
  const b = (body ?? {}) as { team_id?: unknown; team?: { id?: unknown } | null; user?: { team_id?: unknown } | null; user_team_id?: unknown };
  const ids = [context.teamId, b.team_id, b.team?.id, b.user?.team_id, b.user_team_id].filter((t): t is string => typeof t === 'string' && t.length > 0);
  return [...new Set(ids)];
}

/**
 * SLACK_TEAM_ID: a global Bolt middleware, ahead of every listener. A request from another
 * workspace (or naming none) is acknowledged, so Slack does not retry it, logged, and goes no
 * further: no click is stored, no command answered, nothing changes.
 */
export function onlyTeam(teamId: string, logger: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const teams = teamsOf(args.body, args.context);
    if (teams.length > 0 && teams.every((t) => t === teamId)) {
      await args.next();
      return;
    }
    const body = args.body as { type?: unknown; command?: unknown; user?: { id?: unknown }; user_id?: unknown };
    const kind = typeof body.command === 'string' ? `command ${body.command}` : typeof body.type === 'string' ? body.type : 'request';
    const user = typeof body.user?.id === 'string' ? body.user.id : typeof body.user_id === 'string' ? body.user_id : 'unknown';
    logger.warn(`ignored a Slack ${kind} by ${user} from team ${teams.length > 0 ? teams.join(', ') : '(none)'}: only team ${teamId} (SLACK_TEAM_ID) is served`);
    // Logged before the ack: once Slack has its answer, the refusal is on record.
    if ('ack' in args && typeof args.ack === 'function') await (args.ack)();
  };
}
