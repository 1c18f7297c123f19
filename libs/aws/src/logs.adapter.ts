import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { toActionError } from './errors';
import { clientRegion } from './region';

/** Attempts per call, the first included (the SDK's retry of throttling, 5xx and network errors). */
export const LOGS_MAX_ATTEMPTS = 5;

/**
 * Pages read at most per log group. FilterLogEvents may return empty pages with a token while it
 * scans, so the event limit alone does not bound the calls.
 */
export const LOGS_MAX_PAGES = 50;

export interface LogEvent {
  /** Epoch milliseconds. */
  timestamp: number;
  message: string;
  logStream: string;
}

export interface FilteredEvents {
  events: LogEvent[];
  /** More events matched than were read (max events or LOGS_MAX_PAGES reached). */
  truncated: boolean;
  pages: number;
}

export interface LogsCallOptions {
  abortSignal?: AbortSignal;
}

export interface LogsAdapterOptions {
  /** Default: the SDK's chain (AWS_REGION, profile). */
  region?: string;
  /** A ready client (tests, shared configuration). The adapter owns it from then on: `close()` destroys it. */
  client?: CloudWatchLogsClient;
}

/**
 * CloudWatch Logs, read only; no SDK type leaves this file. Credentials and endpoint as for every
 * adapter here (AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_CLOUDWATCH_LOGS apply). A log group that does
 * not exist is a PermanentActionError naming it; AccessDenied names `logs:FilterLogEvents`.
 */
export class LogsAdapter {
  private readonly client: CloudWatchLogsClient;

  constructor(options: LogsAdapterOptions = {}) {
    this.client = options.client ?? new CloudWatchLogsClient({ region: options.region, maxAttempts: LOGS_MAX_ATTEMPTS });
  }

  /** The events of `logGroup` matching `filterPattern` from `startTime` on (all streams, oldest first), at most `maxEvents`. */
  async filterEvents(
    query: { logGroup: string; filterPattern: string; startTime: number; endTime?: number; maxEvents: number },
    options: LogsCallOptions = {},
  ): Promise<FilteredEvents> {
    const events: LogEvent[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    try {
      do {
        const out = await this.client.send(
          new FilterLogEventsCommand({
            logGroupName: query.logGroup,
            filterPattern: query.filterPattern,
            startTime: query.startTime,
            endTime: query.endTime,
            limit: Math.min(10_000, query.maxEvents - events.length),
            nextToken,
          }),
          { abortSignal: options.abortSignal },
        );
        for (const e of out.events ?? []) {
          if (e.timestamp !== undefined && e.message !== undefined) events.push({ timestamp: e.timestamp, message: e.message, logStream: e.logStreamName ?? '' });
        }
        nextToken = out.nextToken;
        pages++;
      } while (nextToken && events.length < query.maxEvents && pages < LOGS_MAX_PAGES);
    } catch (error) {
      throw toActionError(
        error,
        { iamAction: 'logs:FilterLogEvents', resource: `log group ${query.logGroup}` },
        { notFound: { ResourceNotFoundException: `log group not found: ${query.logGroup}` } },
      );
    }
    events.sort((a, b) => a.timestamp - b.timestamp);
    return { events: events.slice(0, query.maxEvents), truncated: Boolean(nextToken) || events.length > query.maxEvents, pages };
  }

  /** The client's region (for console links), or null when none resolves. */
  region(): Promise<string | null> {
    return clientRegion(this.client);
  }

  close(): void {
    this.client.destroy();
  }
}
