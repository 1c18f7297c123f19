import { capacityRule } from './causes/capacity';
import { configurationChangeRule } from './causes/configuration-change';
import { databaseRule } from './causes/database';
import { dependencyRule } from './causes/dependency';
import { deploymentRule } from './causes/deployment';
import { healthCheckRule } from './causes/health-check';
import { infrastructureRule } from './causes/infrastructure';
import { memoryRule } from './causes/memory';
import type { CauseRule } from './rule';

/** Every cause the diagnosis weighs: adding one is a file in causes/ and a line here. */
export const CAUSE_RULES: readonly CauseRule[] = [
  deploymentRule,
  capacityRule,
  memoryRule,
  dependencyRule,
  databaseRule,
  healthCheckRule,
  infrastructureRule,
  configurationChangeRule,
];
