import { BadRequestException, Inject, Injectable, Logger } from '@nestjs/common';
import { ALARM_DETAIL_TYPE, type AlarmEvent, type InputProblem, type Parsed, CatalogMatcher, type Catalog, parseAlarmEvent, problemsToText } from '@responder/domain';
import { IncidentStore, type IngestOutcome, type IngestResult } from '@responder/store';
import { RunEngine } from '../engine/run-engine.service';
import { OutcomeRecorder } from '../incidents/outcome-recorder';
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
 */
@Injectable()
export class AlarmIntakeService {
  private readonly logger = new Logger('Intake');
  private readonly matcher: CatalogMatcher;

  constructor(
    private readonly store: IncidentStore,
    private readonly metrics: MetricsService,
    private readonly engine: RunEngine,
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
      this.logger.debug({ eventId: alarm.eventId, incidentId: result.incidentId }, 'repeated delivery ignored');
      // If the first delivery stored the event but failed to hand it to the engine (and answered
      // 503), this retry does it; planning is idempotent (one run per runbook per incident). A
      // first delivery that neither opened the incident nor attached an alarm had nothing to plan.
      if (result.incidentId && plans(result.firstOutcome ?? 'opened')) await this.queuePlan(result.incidentId);
      return result;
    }
    if (!match) this.metrics.unroutedAlarms.inc();
    if (result.outcome === 'opened') this.metrics.incidentsOpened.inc({ routed: match ? 'true' : 'false' });
    if (result.outcome === 'resolved') {
      this.metrics.incidentsResolved.inc();
      // After the answer: the outcome needs the runs read, and the intake answers EventBridge in time.
      if (result.incidentId) void this.outcomes.resolved(result.incidentId);
    }
    if (plans(result.outcome) && result.incidentId) await this.queuePlan(result.incidentId);
    this.logger.log(
      { eventId: alarm.eventId, alarm: alarm.alarmName, state: alarm.state, service: match?.service.name ?? null, incidentId: result.incidentId, outcome: result.outcome, source },
      `alarm ${alarm.alarmName} ${alarm.state}: ${result.outcome}`,
    );
    return result;
  }

  /**
   * The event is stored: a failure to queue its plan must not make the sender deliver it again
   * (it would be a duplicate, and the plan would wait for it). The engine's sweep of unplanned
   * incidents plans it (RunEngine.sweepUnplanned).
   */
  private async queuePlan(incidentId: string): Promise<void> {
    try {
      await this.engine.incidentChanged(incidentId);
    } catch (err) {
      this.metrics.planQueueFailures.inc();
      this.logger.warn({ incidentId }, `incident ${incidentId} stored, but queueing its plan failed (${(err as Error).message}): the engine's sweep plans it`);
    }
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

/** Whether an alarm with this outcome can start a runbook: it opened an incident or joined one. */
function plans(outcome: IngestOutcome): boolean {
  return outcome === 'opened' || outcome === 'attached';
}
