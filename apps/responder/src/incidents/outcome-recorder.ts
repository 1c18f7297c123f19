import { Injectable, Logger } from '@nestjs/common';
import { PHASES, buildRca, loadRcaInput } from '@responder/rca';
import { IncidentStore, RunStore } from '@responder/store';
import { MetricsService } from '../metrics/metrics.service';

/**
 * Counts a resolved incident's outcome and observes its phases in /metrics, once, when the intake
 * resolves it (an event resolves an incident once: repeated deliveries are deduplicated). The
 * outcome is the RCA's (buildRca), as the incident stood at that moment. A failure to read it is
 * logged and never fails the intake.
 */
@Injectable()
export class OutcomeRecorder {
  private readonly logger = new Logger('Outcomes');

  constructor(
    private readonly incidents: IncidentStore,
    private readonly runs: RunStore,
    private readonly metrics: MetricsService,
  ) {}

  async resolved(incidentId: string): Promise<void> {
    try {
      const input = await loadRcaInput(this.incidents, this.runs, incidentId);
      if (!input) return;
      const { outcome } = buildRca(input);
      this.metrics.incidentOutcomes.inc({ outcome: outcome.outcome });
      for (const phase of PHASES) {
        const value = outcome.phases[`${phase}Ms`];
        if (value !== null) this.metrics.incidentPhases.observe({ phase }, value / 1000);
      }
      if (outcome.failedDeploymentRecoveryMs !== null) this.metrics.failedDeploymentRecovery.observe(outcome.failedDeploymentRecoveryMs / 1000);
    } catch (err) {
      this.logger.warn({ incidentId }, `the outcome of ${incidentId} was not counted: ${(err as Error).message}`);
    }
  }
}
