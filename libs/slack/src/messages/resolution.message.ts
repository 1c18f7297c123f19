import type { IncidentView, StepView } from '../view';
import { type SlackMessage, clock, code, context, duration, fallback, packLines, plural, safe, utc } from './format';
import { elapsedMs, serviceName, stepLine } from './incident.message';

// A dry-run step is planned, not done: it is listed with what was not done, never as a change.
const NOT_DONE: ReadonlySet<StepView['status']> = new Set(['dry-run', 'skipped', 'rejected', 'timed_out', 'cancelled', 'failed']);
const MAX_BODY_BLOCKS = 40;

/**
 * Posted in the incident's thread when it resolves: how long it lasted, what Responder changed and
 * on whose approval, what it did not do, and where the RCA draft is.
 */
export function resolutionMessage(view: IncidentView): SlackMessage {
  const steps = view.runs.flatMap((run) => run.steps);
  const changed = steps.filter((s) => s.mutating && s.status === 'succeeded');
  const notDone = steps.filter((s) => NOT_DONE.has(s.status));
  const diagnostics = steps.filter((s) => !s.mutating && s.status === 'succeeded').length;
  const end = view.resolvedAt ?? view.now;
  const lasted = duration(elapsedMs(view));
  const service = safe(serviceName(view));

  const lines = [
    `:white_check_mark: *Resolved*: the ${service} incident lasted *${lasted}* from the onset (${utc(view.onsetAt)} → ${clock(end)}).`,
    '*What Responder did*',
    ...(changed.length > 0 ? changed.map((s) => `• ${stepLine(s)}`) : ['• _No change was made: diagnostics only._']),
    ...(notDone.length > 0 ? ['*Not done*', ...notDone.map((s) => `• ${stepLine(s)}`)] : []),
    `*Diagnostics*: ${plural(diagnostics, 'read-only step')} ran (findings in this thread).`,
  ];
  if (view.mode === 'dry-run') lines.push(':test_tube: Dry run: no change was actually made.');

  return {
    text: fallback(`Resolved: ${service} incident ${safe(view.id)} lasted ${lasted}`),
    blocks: [
      ...packLines(lines, MAX_BODY_BLOCKS),
      context(`:memo: The RCA draft is ready: ${code(`/incident rca ${view.id}`)}`),
    ],
  };
}
