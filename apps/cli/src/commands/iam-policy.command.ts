import { formatSourceProblem } from '@responder/domain';
import { buildIamPolicy } from '../iam-policy';
import { EXIT, type CliIo, plural } from './io';
import { loadDir } from './runbook-validate';

/**
 * `iam-policy [dir] [--region r] [--account a]`: the least-privilege IAM policy for a directory's
 * runbooks. stdout: the JSON document only (pipe it to a file); stderr: warnings and problems.
 * Exit 0; 1 when the runbooks or the catalog have problems.
 */
export function iamPolicy(dir: string | undefined, opts: { region?: string; account?: string }, { env, out, err, actions }: CliIo): number {
  const folder = dir ?? env.RUNBOOKS_DIR ?? 'runbooks';
  const { loaded, catalog, problems } = loadDir(folder, actions);
  if (problems.length > 0) {
    for (const p of problems) err(`${formatSourceProblem(p)}\n`);
    err(`iam-policy: fix the ${plural(problems.length, 'problem')} above first (responder runbook validate ${folder})\n`);
    return EXIT.failed;
  }
  if (loaded.runbooks.length === 0) err(`warning: no runbooks in ${folder}\n`);
  const { policy, warnings } = buildIamPolicy({
    runbooks: loaded.runbooks,
    actions,
    catalog,
    sqsQueueUrl: env.SQS_QUEUE_URL || undefined,
    region: opts.region,
    account: opts.account,
    defaultRegion: env.AWS_REGION || undefined,
  });
  for (const w of warnings) err(`${w}\n`);
  out(`${JSON.stringify(policy, null, 2)}\n`);
  return EXIT.ok;
}
