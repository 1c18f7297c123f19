/**
 * The shipped production-down runbook's mitigation goals, switched off for tests that run it
 * against moto_server: moto runs no task (a deployment is never steady) and has not the incident's
 * alarms, so no goal could be met there. Goals themselves are tested in test/e2e/goal.spec.ts.
 */
export function withoutGoals(runbookText: string): string {
  const out = runbookText.replace(/^( +)goal: \{[^\n]*\}$/gm, '$1goal: none');
  if (out === runbookText) throw new Error('withoutGoals: the runbook declares no goal (has production-down.yaml changed?)');
  return out;
}
