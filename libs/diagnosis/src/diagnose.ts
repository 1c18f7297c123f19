import { readFacts } from './facts';
import { findGaps } from './gaps';
import type { Hypothesis, Verdict } from '@responder/domain';
import type { DiagnosisInput } from './model';
import { CAUSE_RULES } from './registry';
import type { CauseRule } from './rule';

/** A cause is named only with at least this confidence... */
export const MIN_CONFIDENCE = 0.5;
/** ...and this far ahead of the next one; otherwise the verdict is `unknown` (abstain, don't guess). */
export const MIN_LEAD = 0.2;

/** The diagnostics' outputs → ranked hypotheses and a verdict. Pure and deterministic. */
export function diagnose(input: DiagnosisInput, rules: readonly CauseRule[] = CAUSE_RULES): Verdict {
  const facts = readFacts(input);
  const hypotheses = rules
    .map((r) => r.assess(facts))
    .filter((h): h is Hypothesis => h !== null)
    // Stable: ties keep the registry's order.
    .sort((a, b) => b.confidence - a.confidence);
  const gaps = findGaps(input);
  const [top, next] = hypotheses;
  const lead = top ? top.confidence - (next?.confidence ?? 0) : 0;
  if (top && top.confidence >= MIN_CONFIDENCE && lead >= MIN_LEAD - 1e-9) {
    return { cause: top.cause, confidence: top.confidence, summary: `${capitalize(top.summary)} (confidence ${top.confidence.toFixed(2)}).`, hypotheses, gaps, impactStartedAt: facts.impactStartedAt };
  }
  return { cause: 'unknown', confidence: 0, summary: abstention(hypotheses, gaps.length), hypotheses, gaps, impactStartedAt: facts.impactStartedAt };
}

function abstention(hypotheses: Hypothesis[], gaps: number): string {
  const [top, next] = hypotheses;
  const unchecked = gaps > 0 ? `; ${gaps} check${gaps === 1 ? '' : 's'} could not run` : '';
  if (!top) return `No cause found: no diagnostic points to one${unchecked}.`;
  if (top.confidence < MIN_CONFIDENCE) return `No cause is clear: the best, ${top.cause} (${top.confidence.toFixed(2)}), lacks evidence${unchecked}.`;
  return `No cause is clearly ahead: ${top.cause} (${top.confidence.toFixed(2)}) and ${next.cause} (${next.confidence.toFixed(2)})${unchecked}.`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
