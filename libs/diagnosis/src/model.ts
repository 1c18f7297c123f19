/** The diagnosis contract (runbooks/README.md documents it as the `diagnose` step's output). */

export const CAUSES = ['deployment', 'capacity', 'memory', 'dependency', 'database', 'health-check', 'infrastructure', 'configuration-change'] as const;
export type Cause = (typeof CAUSES)[number];

/** One finding for a hypothesis: which step showed it, in a sentence, and where a console page shows it. */
export interface EvidenceItem {
  step: string;
  text: string;
  link?: string;
}

export interface AgainstItem {
  step: string;
  text: string;
}

export interface Hypothesis {
  cause: Cause;
  confidence: number;
  summary: string;
  evidence: EvidenceItem[];
  against: AgainstItem[];
}

/** A check that could not inform the verdict: failed (with the IAM action for access denied), refused or not configured. */
export interface Gap {
  step: string;
  reason: string;
}

export interface Verdict {
  cause: Cause | 'unknown';
  confidence: number;
  summary: string;
  /** Best first. */
  hypotheses: Hypothesis[];
  gaps: Gap[];
  /** When the alarm's metric (else 5xx / latency) really started to move; null when no metric showed it. */
  impactStartedAt: string | null;
}

/** A step as the `diagnose` action sees it (the runbook's `${{ steps }}`, plus errors and skip reasons). */
export interface StepEvidence {
  status: string;
  output?: Record<string, unknown> | null;
  error?: string | null;
  reason?: string | null;
}

export interface DiagnosisInput {
  steps: Readonly<Record<string, StepEvidence | undefined>>;
  /** The incident's onset (its first alarm's state change). */
  onsetAt: string | null;
}
