export * from './model';
export { diagnose, ruledOut, MIN_CONFIDENCE, MIN_LEAD, RULED_OUT_BELOW } from './diagnose';
export { findGaps, DIAGNOSTIC_STEPS } from './gaps';
export { readFacts, type Facts } from './facts';
export { CAUSE_RULES } from './registry';
export type { CauseRule } from './rule';
export { Assessment } from './rule';
export { verdictOf, latestVerdict, type StepLike } from './stored';
