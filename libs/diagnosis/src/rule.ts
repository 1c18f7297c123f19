import type { Facts } from './facts';
import type { AgainstItem, Cause, EvidenceItem, Hypothesis } from '@responder/domain';

/** One cause: reads the facts, names the evidence for and against, or returns null when nothing points to it. */
export interface CauseRule {
  cause: Cause;
  assess(facts: Facts): Hypothesis | null;
}

/**
 * Collects weighted findings. The confidence is the sum of the weights for, minus the weights
 * against, within 0..1: plain arithmetic a reader can redo from the evidence.
 */
export class Assessment {
  private score = 0;
  private readonly forItems: EvidenceItem[] = [];
  private readonly againstItems: AgainstItem[] = [];

  constructor(private readonly cause: Cause) {}

  for(weight: number, step: string, text: string, link?: string): this {
    this.score += weight;
    this.forItems.push(link ? { step, text, link } : { step, text });
    return this;
  }

  against(weight: number, step: string, text: string): this {
    this.score -= weight;
    this.againstItems.push({ step, text });
    return this;
  }

  get hasEvidence(): boolean {
    return this.forItems.length > 0;
  }

  /** The hypothesis, or null when nothing spoke for it. */
  result(summary: string): Hypothesis | null {
    if (!this.hasEvidence) return null;
    const confidence = Math.round(Math.min(1, Math.max(0, this.score)) * 100) / 100;
    return { cause: this.cause, confidence, summary, evidence: this.forItems, against: this.againstItems };
  }
}
