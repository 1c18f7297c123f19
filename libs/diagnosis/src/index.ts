export * from './model';
export { diagnose, MIN_CONFIDENCE, MIN_LEAD } from './diagnose';
export { findGaps, DIAGNOSTIC_STEPS } from './gaps';
export { readFacts, type Facts } from './facts';
export { CAUSE_RULES } from './registry';
export type { CauseRule } from './rule';
export { Assessment } from './rule';
