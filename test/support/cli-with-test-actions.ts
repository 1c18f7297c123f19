import { runCli } from '../../apps/cli/src/program';
import { testActionDescriptors } from './test-actions';

/**
 * The CLI with the test actions known as well (test/fixtures/runbooks name test.diagnose and
 * test.mutate): what test/e2e/cli.spec.ts runs on the fixture folders.
 */
void runCli(process.argv.slice(2), {
  env: process.env,
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  actions: testActionDescriptors,
}).then((code) => {
  process.exitCode = code;
});
