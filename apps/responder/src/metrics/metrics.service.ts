import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** 10 s to a day: the phases of a response, from seconds (a verdict) to hours (a recovery by people). */
const PHASE_BUCKETS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400];

/** Prometheus metrics of the service, on a registry of its own (one per app instance). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly eventsReceived = new Counter({
    name: 'responder_events_received_total',
    help: 'Alarm events received, by source (http, sqs)',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly eventsRejected = new Counter({
    name: 'responder_events_rejected_total',
    help: 'Alarm events rejected, by source and reason (unauthorized, unsupported_media_type, invalid, malformed_json, too_large, unavailable)',
    labelNames: ['source', 'reason'] as const,
    registers: [this.registry],
  });
  readonly eventsIgnored = new Counter({
    name: 'responder_events_ignored_total',
    help: 'Events of another detail-type than "CloudWatch Alarm State Change" (a broad EventBridge rule), answered 202 and not stored',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly eventsDeduplicated = new Counter({
    name: 'responder_events_deduplicated_total',
    help: 'Alarm events recognised as a repeated delivery, by source and reason',
    labelNames: ['source', 'reason'] as const,
    registers: [this.registry],
  });
  readonly planQueueFailures = new Counter({
    name: 'responder_plan_queue_failures_total',
    help: 'Stored alarm events whose plan could not be queued (the engine sweep plans them)',
    registers: [this.registry],
  });

  readonly unroutedAlarms = new Counter({
    name: 'responder_unrouted_alarms_total',
    help: 'Alarm events that matched no service in the catalog',
    registers: [this.registry],
  });
  readonly incidentsOpened = new Counter({
    name: 'responder_incidents_opened_total',
    help: 'Incidents opened, by whether a catalog service claimed the alarm',
    labelNames: ['routed'] as const,
    registers: [this.registry],
  });
  readonly incidentsResolved = new Counter({
    name: 'responder_incidents_resolved_total',
    help: 'Incidents resolved (every attached alarm back to OK)',
    registers: [this.registry],
  });
  readonly intakeDuration = new Histogram({
    name: 'responder_intake_duration_seconds',
    help: 'Time from an event received to its answer (validated, stored), by source and outcome',
    labelNames: ['source', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  /** Incidents resolved, by how they were mitigated (see libs/rca outcome.ts): counted once, when the incident resolves. */
  readonly incidentOutcomes = new Counter({
    name: 'responder_incident_outcomes_total',
    help: 'Incidents resolved, by how they were mitigated: policy (Responder alone, granted by policy), approved (Responder, approved by a person), people (no step of Responder changed production)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly incidentPhases = new Histogram({
    name: 'responder_incident_phase_seconds',
    help: 'Phases of the response of each resolved incident: detect (impact started → alarm), diagnose (alarm → verdict), acknowledge (alarm → first human), mitigate (alarm → first change to production), recover (that change → recovery), restore (impact started → recovery)',
    labelNames: ['phase'] as const,
    buckets: PHASE_BUCKETS,
    registers: [this.registry],
  });
  readonly failedDeploymentRecovery = new Histogram({
    name: 'responder_failed_deployment_recovery_seconds',
    help: 'Failed deployment recovery time (DORA) of each resolved incident the verdict blames on a deployment: impact started → recovery',
    buckets: PHASE_BUCKETS,
    registers: [this.registry],
  });

  readonly slackJobs = new Counter({
    name: 'responder_slack_jobs_total',
    help: 'Outbound Slack jobs run, by job (sync, remind, ephemeral) and outcome (ok, rate_limited, retry, refused)',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
