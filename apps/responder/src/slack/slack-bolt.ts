import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { App, type Authorize, ExpressReceiver, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Router } from 'express';
import { onlyTeam, registerApprovalButtons, registerIncidentCommand } from '@responder/slack';
import { type AppConfig, servesRequests } from '../config/config';
import { APP_CONFIG } from '../tokens';
import { SlackHandlersService } from './slack-handlers.service';

/** The path Slack posts events, interactivity and slash commands to (HTTP mode). */
export const SLACK_EVENTS_PATH = '/slack/events';

/**
 * The Bolt app. HTTP mode: an ExpressReceiver whose router is mounted in the Nest HTTP server ahead
 * of any body parser (Bolt checks Slack's signature over the raw body, and refuses requests more
 * than five minutes old, with 401). Socket Mode (SLACK_APP_TOKEN): no inbound traffic at all.
 */
@Injectable()
export class SlackBolt implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Slack');
  readonly app: App;
  private readonly receiver: ExpressReceiver | null = null;
  private readonly socketMode: boolean;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig, handlers: SlackHandlersService) {
    const slack = config.slack!;
    const logger = boltLogger(this.logger);
    // Our listeners need only the bot token: no auth.test call stands between a click and its answer.
    const authorize: Authorize<boolean> = () => Promise.resolve({ botToken: slack.botToken });
    const clientOptions = { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } };
    this.socketMode = slack.appToken !== undefined;
    if (slack.appToken) {
      this.app = new App({ authorize, appToken: slack.appToken, socketMode: true, logger, clientOptions, ignoreSelf: false, installerOptions: { clientOptions } });
    } else {
      this.receiver = new ExpressReceiver({ signingSecret: slack.signingSecret!, endpoints: SLACK_EVENTS_PATH, logger, processBeforeResponse: false });
      this.app = new App({ authorize, receiver: this.receiver, logger, clientOptions, ignoreSelf: false });
    }
    // First, ahead of every listener: a request from another workspace changes nothing.
    if (slack.teamId) this.app.use(onlyTeam(slack.teamId, logger));
    registerApprovalButtons(this.app, handlers, logger);
    registerIncidentCommand(this.app, handlers);
    this.app.error(async (error) => {
      this.logger.error({ errors: boltErrorCauses(error).map((e) => ({ message: e.message, stack: e.stack })) }, `Slack listener failed: ${boltErrorText(error)}`);
      return Promise.resolve();
    });
  }

  /** HTTP mode: the Express router to mount before body parsing; null in Socket Mode. */
  get router(): Router | null {
    return (this.receiver?.router as Router | undefined) ?? null;
  }

  onApplicationBootstrap(): void {
    if (!this.socketMode || !servesRequests(this.config)) return;
    // In the background: a Slack outage at boot must not stop the service (the client reconnects).
    this.app.start().then(
      () => this.logger.log('connected to Slack (Socket Mode)'),
      (err: Error) => this.logger.error(`Socket Mode connection failed: ${err.message}`),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.socketMode) await this.app.stop().catch(() => undefined);
  }
}

/**
 * Bolt refuses a signed request more than five minutes old, but not one dated in the future: a
 * request Slack signed (or a leaked one) with a far-ahead timestamp could be replayed for as long.
 * Slack's verification guide asks for five minutes either way; this is the other half.
 */
export function refuseFutureSlackRequests(logger: Logger, toleranceSec = 5 * 60) {
  return (req: { method: string; path: string; headers: Record<string, string | string[] | undefined> }, res: { status: (code: number) => { send: (body: string) => void } }, next: () => void): void => {
    const header = req.headers['x-slack-request-timestamp'];
    const ts = Number(Array.isArray(header) ? header[0] : header);
    if (req.method === 'POST' && req.path === SLACK_EVENTS_PATH && Number.isFinite(ts) && ts > Date.now() / 1000 + toleranceSec) {
      logger.warn(`refused a Slack request dated ${Math.round(ts - Date.now() / 1000)} s in the future`);
      res.status(401).send('');
      return;
    }
    next();
  };
}

/**
 * The errors behind one Bolt error: Bolt wraps several failed listeners (or middleware) in a
 * MultipleListenerError whose message says only "Multiple errors occurred", and one in an
 * UnknownError; what failed is in `originals` / `original`.
 */
export function boltErrorCauses(error: Error & { original?: unknown; originals?: unknown }): Error[] {
  const nested = Array.isArray(error.originals) ? (error.originals as unknown[]) : error.original !== undefined ? [error.original] : [];
  const causes = nested.flatMap((e) => (e instanceof Error ? boltErrorCauses(e) : [new Error(String(e))]));
  return causes.length > 0 ? causes : [error];
}

/** One line naming every error inside a Bolt error. */
export function boltErrorText(error: Error & { original?: unknown; originals?: unknown }): string {
  const causes = boltErrorCauses(error);
  if (causes.length === 1 && causes[0] === error) return error.message;
  return `${causes.length} error${causes.length === 1 ? '' : 's'}: ${causes.map((e, i) => `(${i + 1}) ${e.message}`).join('; ')}`;
}

/** Bolt logs plain strings: forward them to the service's logger (pino, with redaction). */
function boltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const text = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => logger.debug(text(msg)),
    info: (...msg: unknown[]) => logger.log(text(msg)),
    warn: (...msg: unknown[]) => logger.warn(text(msg)),
    error: (...msg: unknown[]) => logger.error(text(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
