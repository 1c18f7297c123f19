import { type DiagnosisInput, type StepEvidence, diagnose } from '@responder/diagnosis';
import { type Action, type ActionResult, PermanentActionError } from '@responder/domain';

/**
 * `diagnose`: the diagnostics' statuses, outputs and errors (the runbook passes `${{ steps }}`) →
 * the verdict of `@responder/diagnosis`. Pure and read-only: no AWS call.
 */
export const DIAGNOSE_ID = 'diagnose';

function input(params: Record<string, unknown>): DiagnosisInput {
  const evidence = params.evidence;
  if (evidence === null || typeof evidence !== 'object' || Array.isArray(evidence)) {
    throw new PermanentActionError(`diagnose: "evidence" must be the run's steps (\${{ steps }}), got ${JSON.stringify(evidence) ?? 'nothing'}`);
  }
  const onset = params.onset ?? null;
  if (onset !== null && (typeof onset !== 'string' || Number.isNaN(Date.parse(onset)))) {
    throw new PermanentActionError(`diagnose: "onset" must be an ISO time or null, got ${JSON.stringify(onset)}`);
  }
  const steps: Record<string, StepEvidence> = {};
  for (const [id, s] of Object.entries(evidence as Record<string, unknown>)) {
    if (s && typeof s === 'object' && typeof (s as StepEvidence).status === 'string') steps[id] = s as StepEvidence;
  }
  return { steps, onsetAt: onset };
}

export const diagnoseAction: Action = {
  id: DIAGNOSE_ID,
  mutating: false,
  description: "Weigh the diagnostics into a verdict: cause, confidence, evidence for and against, gaps (with: { evidence: \"${{ steps }}\", onset }).",
  plan: (params) => {
    const { steps } = input(params);
    return { summary: `diagnose from ${Object.keys(steps).length} steps` };
  },
  run(params: Record<string, unknown>): Promise<ActionResult> {
    return new Promise((resolve) => {
      const verdict = diagnose(input(params));
      resolve({ output: { ...verdict }, summary: verdict.summary });
    });
  },
};
