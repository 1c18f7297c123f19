// How an incident was mitigated, the times of its phases, and their medians over many incidents.

/**
 * How an incident was mitigated, from its timeline and runs (a step "changed production" when it
 * is mutating, `succeeded`, not a dry run, and did not report `skipped`: nothing to change):
 * - `policy`: production was changed by Responder, and every such step was granted by a policy
 *   (automatic mitigation, no person decided);
 * - `approved`: production was changed by Responder, and at least one such step was approved by a
 *   person (Slack or the API);
 * - `people`: resolved (every alarm back to OK) with no step that changed production: people
 *   outside Responder mitigated it (or it went away by itself);
 * - `not_mitigated`: still open, and nothing changed production yet.
 * A resolved incident has recovered by definition (its alarms are back to OK); an open one that
 * Responder mitigated keeps `policy` / `approved` with no recovery time yet.
 */
export type MitigationOutcome = 'policy' | 'approved' | 'people' | 'not_mitigated';

export const MITIGATION_OUTCOMES: readonly MitigationOutcome[] = ['policy', 'approved', 'people', 'not_mitigated'];

/**
 * The phases of the response, in milliseconds (null when either end did not happen or is unknown):
 * - `detect`: impact started → the alarm fired (its state change); null when no impact start was measured;
 * - `diagnose`: alarm → the first verdict (the `diagnose` step finished);
 * - `acknowledge`: alarm → the first human response (an approval, a rejection or a note by a person);
 * - `mitigate`: alarm → the first step that changed production;
 * - `recover`: that step → recovery (the incident resolved);
 * - `restore`: impact started (else the alarm) → recovery.
 */
export interface RcaPhases {
  detectMs: number | null;
  diagnoseMs: number | null;
  acknowledgeMs: number | null;
  mitigateMs: number | null;
  recoverMs: number | null;
  restoreMs: number | null;
}

export const PHASES = ['detect', 'diagnose', 'acknowledge', 'mitigate', 'recover', 'restore'] as const;
export type Phase = (typeof PHASES)[number];

export interface RcaOutcome {
  outcome: MitigationOutcome;
  /** In words, for the document. */
  text: string;
  /** The verdict's cause (null without a verdict). */
  cause: string | null;
  phases: RcaPhases;
  /**
   * DORA's failed deployment recovery time: for an incident the verdict blames on a deployment,
   * impact started → recovery; null for another cause, or while it is open.
   */
  failedDeploymentRecoveryMs: number | null;
  recovered: boolean;
}

/** What the classification needs, as buildRca has it (epoch ms; undefined: did not happen). */
export interface OutcomeFacts {
  resolved: boolean;
  cause: string | null;
  impactStart?: number;
  onset?: number;
  alarm?: number;
  verdictAt?: number;
  firstHuman?: number;
  mitigated?: number;
  recoveredAt?: number;
  /** The approval of each step that changed production: `policy` or a person's (`approved`). */
  changes: Array<{ step: string; approval: 'policy' | 'approved' | 'other' }>;
  /** Mutating steps whose call was made and whose goal was missed: they changed production without mitigating. */
  missedGoals?: string[];
}

export function classifyOutcome(f: OutcomeFacts): RcaOutcome {
  const between = (a?: number, b?: number) => (a !== undefined && b !== undefined ? Math.max(0, b - a) : null);
  let outcome: MitigationOutcome;
  if (f.changes.some((c) => c.approval === 'approved')) outcome = 'approved';
  else if (f.changes.length > 0) outcome = 'policy';
  else outcome = f.resolved ? 'people' : 'not_mitigated';
  const steps = f.changes.map((c) => c.step).join(', ');
  const text = {
    policy: `mitigated by Responder alone: ${steps}, granted by policy`,
    approved: `mitigated by Responder with a person's approval: ${steps}`,
    people: f.missedGoals?.length
      ? `mitigated outside Responder: the alarms went back to OK; ${f.missedGoals.join(', ')} changed production but missed ${f.missedGoals.length === 1 ? 'its goal' : 'their goals'}`
      : 'mitigated outside Responder: the alarms went back to OK with no step of Responder changing production',
    not_mitigated: f.missedGoals?.length
      ? `not mitigated: ${f.missedGoals.join(', ')} changed production but missed ${f.missedGoals.length === 1 ? 'its goal' : 'their goals'}`
      : 'not mitigated yet: the incident is open and nothing changed production',
  }[outcome];
  const recovery = f.resolved ? f.recoveredAt : undefined;
  const restore = between(f.onset ?? f.alarm, recovery);
  return {
    outcome,
    text: recovery === undefined && f.changes.length > 0 ? `${text} (not recovered yet)` : text,
    cause: f.cause,
    phases: {
      detectMs: f.impactStart !== undefined ? between(f.onset, f.alarm) : null,
      diagnoseMs: between(f.alarm, f.verdictAt),
      acknowledgeMs: between(f.alarm, f.firstHuman),
      mitigateMs: between(f.alarm, f.mitigated),
      recoverMs: between(f.mitigated, recovery),
      restoreMs: restore,
    },
    failedDeploymentRecoveryMs: f.cause === 'deployment' ? restore : null,
    recovered: recovery !== undefined,
  };
}

/** The median (the mean of the two middle values for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface OutcomeStats {
  incidents: number;
  outcomes: Record<MitigationOutcome, number>;
  /** Per phase: how many incidents have it, and its median. */
  phases: Record<Phase, { count: number; medianMs: number | null }>;
  /** Incidents blamed on a deployment and recovered: how many, and the median recovery time. */
  failedDeploymentRecovery: { count: number; medianMs: number | null };
}

/** Counts by outcome and the median of each phase over the incidents given. Pure. */
export function outcomeStats(items: readonly RcaOutcome[]): OutcomeStats {
  const outcomes = Object.fromEntries(MITIGATION_OUTCOMES.map((o) => [o, items.filter((i) => i.outcome === o).length])) as Record<MitigationOutcome, number>;
  const phases = Object.fromEntries(
    PHASES.map((p) => {
      const values = items.map((i) => i.phases[`${p}Ms`]).filter((v): v is number => v !== null);
      return [p, { count: values.length, medianMs: median(values) }];
    }),
  ) as OutcomeStats['phases'];
  const recoveries = items.map((i) => i.failedDeploymentRecoveryMs).filter((v): v is number => v !== null);
  return { incidents: items.length, outcomes, phases, failedDeploymentRecovery: { count: recoveries.length, medianMs: median(recoveries) } };
}
