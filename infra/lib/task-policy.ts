import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Catalog, formatSourceProblem, parseCatalog, type SourceProblem } from '@responder/domain';
import { awsActions } from '@responder/aws/actions';
import { NOT_RUNBOOKS, knownActions, loadRunbooks } from '@responder/runbooks';
import { buildIamPolicy, type IamPolicy } from '../../apps/cli/src/iam-policy';

/**
 * The task role's policy is the one `iam-policy` prints, computed here at synth time from the same
 * runbooks directory (and its service catalog) that goes into the image, with the same function:
 * a runbook or catalog change changes the role on the next deploy, and nobody copies JSON by hand.
 */

/** Stands in for the intake queue's URL: the real one is a deploy-time token, which the builder cannot parse. */
export const QUEUE_URL_PLACEHOLDER = 'https://sqs.us-east-1.amazonaws.com/000000000000/responder-intake-placeholder';
export const SQS_STATEMENT_SID = 'SqsIntakeQueue';

export interface TaskPolicyInput {
  runbooksDir: string;
  /** Adds the SQS intake's statement (its Resource is then QUEUE_URL_PLACEHOLDER's ARN: the stack swaps in the queue's). */
  sqsIntake: boolean;
  /** Win over the catalog's ARNs, like `iam-policy --region/--account`. */
  region?: string;
  account?: string;
  /** Used when neither the options nor the catalog's ARNs give a region (the stack's own region). */
  defaultRegion?: string;
}

export interface TaskPolicy {
  policy: IamPolicy;
  warnings: string[];
  catalog?: Catalog;
  runbookCount: number;
}

export function computeTaskPolicy(input: TaskPolicyInput): TaskPolicy {
  // Only the actions' descriptors are read (their `iam`); the SDK clients are built, never called.
  const actions = knownActions(awsActions({ region: 'us-east-1' }));
  const problems: SourceProblem[] = [];
  let catalog: Catalog | undefined;
  if (!existsSync(input.runbooksDir)) throw new Error(`runbooks directory not found: ${input.runbooksDir}`);
  const catalogFile = NOT_RUNBOOKS.map((f) => join(input.runbooksDir, f)).find((f) => existsSync(f));
  if (catalogFile) {
    const parsed = parseCatalog(catalogFile, readFileSync(catalogFile, 'utf8'));
    if (parsed.ok) catalog = parsed.value;
    else problems.push(...parsed.problems);
  }
  const loaded = loadRunbooks(input.runbooksDir, actions, { catalog });
  problems.push(...loaded.problems);
  if (problems.length > 0) {
    throw new Error(`the runbooks in ${input.runbooksDir} have problems (the service would refuse to start):\n${problems.map(formatSourceProblem).join('\n')}`);
  }
  const { policy, warnings } = buildIamPolicy({
    runbooks: loaded.runbooks,
    actions,
    catalog,
    sqsQueueUrl: input.sqsIntake ? QUEUE_URL_PLACEHOLDER : undefined,
    region: input.region,
    account: input.account,
    defaultRegion: input.defaultRegion,
  });
  return { policy, warnings, catalog, runbookCount: loaded.runbooks.length };
}
