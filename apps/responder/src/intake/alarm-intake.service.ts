import { BadRequestException, Inject, Injectable, Logger } from '@nestjs/common';
import { ALARM_DETAIL_TYPE, type AlarmEvent, type InputProblem, type Parsed, CatalogMatcher, type Catalog, parseAlarmEvent, problemsToText } from '@responder/domain';
import { IncidentStore, type IngestResult } from '@responder/store';
import { OutcomeRecorder } from '../incidents';
import { MetricsService } from '../metrics/metrics.service';
import type { AppConfig } from '../config/config';
import { APP_CONFIG, CATALOG } from '../tokens';

export type IntakeSource = 'http' | 'sqs';

/** An event of another type (an alarm configuration change, an ECS event...): not an error, not stored. */
export interface IgnoredEvent {
  incidentId: null;
  deduplicated: false;
  outcome: 'ignored';
}

/** A 400 whose body lists each problem: which field, what was expected. */
export class InvalidEventError extends BadRequestException {
  constructor(readonly problems: InputProblem[]) {
    super({ statusCode: 400, error: 'Bad Request', message: `not a CloudWatch alarm state change event: ${problemsToText(problems)}`, problems });
  }
}

/**
 * Alarm intake, shared by the HTTP endpoint and the SQS poller: validate, route to a service
 * through the catalog, and record (dedupe, open/attach/resolve) in one atomic store operation.
 * That operation also notes the incident on the store's change feed, which is how the engine
 * hears of it (engine/plan-listener.ts): the intake calls nothing else, so an event once stored
 * cannot lose its plan to a failure after the write.
 */
@Injectable()
export class AlarmIntakeService {
  private readonly logger = new Logger('Intake');
  private readonly matcher: CatalogMatcher;

  constructor(
    private readonly store: IncidentStore,
    private readonly metrics: MetricsService,
    private readonly outcomes: OutcomeRecorder,
    @Inject(CATALOG) catalog: Catalog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.matcher = new CatalogMatcher(catalog);
  }

  /** Throws InvalidEventError for a malformed event; store errors propagate (the caller retries). */
  async receive(body: unknown, source: IntakeSource): Promise<IngestResult | IgnoredEvent> {
    const stop = this.metrics.intakeDuration.startTimer({ source });
    this.metrics.eventsReceived.inc({ source });
    const detailType = otherDetailType(body);
    if (detailType !== null) {
      // A broad EventBridge rule sends these too: a 4xx would pile them up as failed deliveries.
      this.metrics.eventsIgnored.inc({ source });
      stop({ outcome: 'ignored' });
      this.logger.debug({ detailType: detailType.slice(0, 100), source }, 'event of another type ignored');
      return { incidentId: null, deduplicated: false, outcome: 'ignored' };
    }
    const parsed = accountAllowed(parseAlarmEvent(body), this.config.alarmAccounts);
    if (!parsed.ok) {
      this.metrics.eventsRejected.inc({ source, reason: 'invalid' });
      stop({ outcome: 'invalid' });
      const error = new InvalidEventError(parsed.problems);
      if (source === 'http') this.logger.warn({ problems: parsed.problems }, `event rejected: ${problemsToText(parsed.problems)}`);
      throw error;
    }
    const alarm = parsed.value;
    const match = this.matcher.match(alarm);
    let result: IngestResult;
    try {
      result = await this.store.ingest({ alarm, service: match?.service.name ?? null, matchedBy: match?.matchedBy ?? null, source });
    } catch (err) {
      this.metrics.eventsRejected.inc({ source, reason: 'unavailable' });
      stop({ outcome: 'error' });
      throw err;
    }
    stop({ outcome: result.outcome });
    if (result.deduplicated) {
      this.metrics.eventsDeduplicated.inc({ source, reason: 'event_id' });
      // The first delivery's change is on the feed (written with it): the engine plans from that.
      this.logger.debug({ eventId: alarm.eventId, incidentId: result.incidentId }, 'repeated delivery ignored');
      return result;
    }
    if (!match) this.metrics.unroutedAlarms.inc();
    if (result.outcome === 'opened') this.metrics.incidentsOpened.inc({ routed: match ? 'true' : 'false' });
    if (result.outcome === 'resolved') {
      this.metrics.incidentsResolved.inc();
      // After the answer: the outcome needs the runs read, and the intake answers EventBridge in time.
      if (result.incidentId) void this.outcomes.resolved(result.incidentId);
    }
    this.logger.log(
      { eventId: alarm.eventId, alarm: alarm.alarmName, state: alarm.state, service: match?.service.name ?? null, incidentId: result.incidentId, outcome: result.outcome, source },
      `alarm ${alarm.alarmName} ${alarm.state}: ${result.outcome}`,
    );
    return result;
  }
}

/**
 * With ALARM_ACCOUNTS set, an event from another account (or naming an alarm in one) is refused like
 * a malformed one: a valid-looking event from an account we do not watch must not open an incident.
 */
function accountAllowed(parsed: Parsed<AlarmEvent>, accounts: string[] | undefined): Parsed<AlarmEvent> {
  if (!parsed.ok || !accounts) return parsed;
  const arnAccount = parsed.value.alarmArn.split(':')[4];
  const problems: InputProblem[] = [];
  if (!accounts.includes(parsed.value.account)) problems.push({ path: 'account', message: `${parsed.value.account} is not an account this Responder serves (ALARM_ACCOUNTS)` });
  else if (!accounts.includes(arnAccount)) problems.push({ path: 'resources', message: `${arnAccount} is not an account this Responder serves (ALARM_ACCOUNTS)` });
  return problems.length > 0 ? { ok: false, problems } : parsed;
}

/** The event's `detail-type` when it is a string other than an alarm state change; null otherwise. */
function otherDetailType(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const detailType = (body as Record<string, unknown>)['detail-type'];
  return typeof detailType === 'string' && detailType !== ALARM_DETAIL_TYPE ? detailType : null;
}
