import type { Gap } from '@responder/domain';
import type { DiagnosisInput } from './model';

/** The diagnostics the verdict reads (production-down's step ids), in the order gaps are listed. */
export const DIAGNOSTIC_STEPS = ['alb', 'ecs', 'metrics', 'logs', 'deploy', 'aurora', 'changes'] as const;

const WHAT: Record<string, string> = {
  alb: 'target health',
  ecs: 'ECS service status',
  metrics: 'metrics',
  logs: 'application logs',
  deploy: 'deployments',
  aurora: 'Aurora health',
  changes: 'recent changes (CloudTrail)',
};

/** `ecs:DescribeServices` from "access denied: the role Responder runs as needs ecs:DescribeServices on …". */
const IAM_ACTION = /\b([a-z0-9-]+:[A-Z][A-Za-z0-9]+)\b/;

/**
 * What could not be checked: each diagnostic that failed (naming the IAM action when access was
 * denied), was refused or cancelled, or was skipped (not configured for the service). A step the
 * run does not have (an older runbook) is no gap. Pure.
 */
export function findGaps(input: DiagnosisInput): Gap[] {
  const gaps: Gap[] = [];
  for (const step of DIAGNOSTIC_STEPS) {
    const s = input.steps[step];
    if (!s || s.status === 'succeeded') continue;
    const what = WHAT[step];
    const error = (s.error ?? '').replace(/^the job failed: /, '');
    if (s.status === 'failed' || s.status === 'timed_out') {
      if (/access denied|not authorized|AccessDenied/i.test(error)) {
        const iam = IAM_ACTION.exec(error)?.[1];
        gaps.push({ step, reason: `${what} not checked: access denied${iam ? ` (the role needs ${iam})` : ''}` });
      } else {
        gaps.push({ step, reason: `${what} not checked: ${s.status === 'timed_out' ? 'timed out' : 'failed'}${error ? `: ${shorten(error)}` : ''}` });
      }
    } else if (s.status === 'skipped') {
      const reason = s.reason ?? '';
      gaps.push({ step, reason: `${what} not checked: ${reason.startsWith('when was false') ? `not configured for this service (${reason})` : reason || 'skipped'}` });
    } else if (s.status === 'rejected') {
      gaps.push({ step, reason: `${what} not checked: refused${s.reason ? `: ${shorten(s.reason)}` : ''}` });
    } else {
      gaps.push({ step, reason: `${what} not checked: ${s.status}` });
    }
  }
  return gaps;
}

function shorten(text: string): string {
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
