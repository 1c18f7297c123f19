import { type SlackMessage, code, fallback, safe, section } from './format';

/**
 * Posted in the thread of an incident that Redis lost (it came back without its last writes: a
 * failover to a replica that lagged, a restart without persistence): what the thread shows is no
 * longer followed, and its buttons do nothing.
 */
export function lostIncidentMessage(incidentId: string): SlackMessage {
  return {
    text: fallback(`Incident ${safe(incidentId)} is no longer in Responder's store: this thread is no longer updated`),
    blocks: [
      section(
        `:warning: Incident ${code(incidentId)} is no longer in Responder's store: Redis came back without its last writes (a failover to a replica that lagged, or a restart without persistence). ` +
          'This thread is no longer updated and its buttons do nothing. If the alarms still fire, their next state change opens a new incident; what was done meanwhile is in AWS (CloudTrail) and in this thread.',
      ),
    ],
  };
}
