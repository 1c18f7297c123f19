/** What `diagnose` reads (its verdict, the contract, is `libs/domain`'s `verdict.ts`). */

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
