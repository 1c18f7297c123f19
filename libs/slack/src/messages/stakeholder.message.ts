import type { IncidentView } from '../view';
import { type SlackMessage, between, clock, context, fallback, plural, safe, section } from './format';

export type StakeholderPhase = 'opened' | 'setback' | 'mitigated' | 'resolved';

/** "42 minutes", "1 hour 5 minutes": words, not "1h 05m", for readers outside engineering. */
export function plainDuration(ms: number): string {
  // Whole minutes elapsed, as people count them: 42 min 30 s is "42 minutes".
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 1) return 'less than a minute';
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return plural(minutes, 'minute');
  return rest === 0 ? plural(hours, 'hour') : `${plural(hours, 'hour')} ${plural(rest, 'minute')}`;
}

/**
 * A status update for people outside the on-call team. It says what is affected (the service) and
 * what is being done, in plain words, and nothing else: alarm reasons, step ids, ARNs and incident
 * titles are internals that may carry resource names or secrets, so none of them is read here.
 */
export function stakeholderMessage(view: IncidentView, phase: StakeholderPhase, nextUpdateMinutes: number): SlackMessage {
  const service = view.service ? `*${safe(view.service)}*` : 'one of our services';
  const Service = view.service ? service : 'One of our services';
  const since = clock(view.onsetAt);
  const next = `Next update within ${plural(Math.max(1, Math.round(nextUpdateMinutes)), 'minute')}.`;
  let headline: string;
  let body: string;
  switch (phase) {
    case 'opened':
      headline = `:red_circle: ${Service} is having problems`;
      body = `We are aware of a problem affecting ${service} since ${since}. Our on-call engineers are investigating.`;
      break;
    case 'setback':
      headline = `:red_circle: ${Service} is still having problems`;
      body = `A first fix applied to ${service} did not restore it. Our engineers are escalating and working on the next step.`;
      break;
    case 'mitigated':
      headline = `:large_orange_circle: ${Service} is recovering`;
      body = `A fix has been applied to ${service} and we are watching recovery.`;
      break;
    case 'resolved': {
      const lasted = plainDuration(between(view.onsetAt, view.resolvedAt ?? view.now) ?? 0);
      headline = `:large_green_circle: ${Service} is working normally again`;
      body = `The problem affecting ${service} was resolved after ${lasted} (from ${since} to ${clock(view.resolvedAt ?? view.now)}).`;
      break;
    }
  }
  return {
    text: fallback(`${headline.replace(/^:[a-z_]+: /, '').replace(/\*/g, '')}`),
    blocks: [section(`${headline}\n${body}`), ...(phase === 'resolved' ? [] : [context(next)])],
  };
}
