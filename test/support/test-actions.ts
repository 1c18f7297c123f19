import type { ActionDescriptor } from '@responder/domain';
import { knownActions } from '@responder/runbooks';

/**
 * Actions the runbook fixtures and engine tests name. Descriptors only for now: the engine's
 * tests add runnable implementations here (counting their calls).
 */
export const TEST_ACTION_DESCRIPTORS: readonly ActionDescriptor[] = [
  { id: 'test.diagnose', mutating: false, description: 'A read-only diagnostic that returns what it is given.' },
  { id: 'test.mutate', mutating: true, description: 'A mutating action (counts its calls in the engine tests).' },
];

/** The built-in actions plus the test ones, as parseRunbook / loadRunbooks take them. */
export const testActionDescriptors: ReadonlyMap<string, ActionDescriptor> = knownActions(TEST_ACTION_DESCRIPTORS);
