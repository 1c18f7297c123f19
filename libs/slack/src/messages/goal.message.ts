import type { IncidentView, RunView, StepView } from '../view';
import { type SlackMessage, context, fallback, joinAnd, mention, safe, section, truncate } from './format';

/**
 * A mitigation whose call was made but whose goal was not met in time: loud, in the incident's
 * thread, re-pinging the approvers (the people who can decide what comes next). It says the
 * incident is not mitigated, and what the checks saw. Pure.
 */
export function goalMissedMessage(view: IncidentView, run: RunView, step: StepView): SlackMessage {
  const who = [...step.approvers.slackUserGroups, ...step.approvers.slackUsers].map(mention);
  const what = step.plan ? safe(truncate(step.plan, 200)) : `\`${safe(step.action)}\``;
  const why = safe(truncate(step.error ?? 'its goal was not met', 1500));
  const ping = who.length > 0 ? `${joinAnd(who)}: please take over.` : 'Nobody is named as approver in the service catalog: the on-call engineer must take over.';
  return {
    text: fallback(`Mitigation did not work: ${step.id} (${step.action}) did not reach its goal; incident ${view.id} is not mitigated`),
    blocks: [
      section(`:rotating_light: *Mitigation did not work* (step \`${safe(step.id)}\` of ${safe(run.runbook)})\n${what} was done, but its goal was not met. *The incident is not mitigated.*`),
      section(`>${why}`),
      section(ping),
      context('This step is not retried: the call was made once. Check the service, then decide the next step.'),
    ],
  };
}
