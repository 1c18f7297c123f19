import { run } from '../../apps/cli/src/main';
import { testActionDescriptors } from './test-actions';

/**
 * The CLI with the test actions known as well (test/fixtures/runbooks name test.diagnose and
 * test.mutate): what test/e2e/cli.spec.ts runs on the fixture folders.
 */
process.exitCode = run(process.argv.slice(2), {
  env: process.env,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  actions: testActionDescriptors,
});
