import { randomBytes } from 'node:crypto';
import type { AlarmKind, AlarmStateValue } from './alarm-event';

export type IncidentStatus = 'open' | 'resolved';
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'resolved'];

/** An alarm as attached to an incident: its latest known state. */
export interface IncidentAlarm {
  name: string;
  arn: string;
  kind: AlarmKind;
  state: AlarmStateValue;
  reason: string;
  stateChangedAt: string;
}

export interface Incident {
  id: string;
  status: IncidentStatus;
  /** The catalog service, or null when no catalog entry matched the alarm (an unrouted incident). */
  service: string | null;
  routed: boolean;
  title: string;
  openedAt: string;
  resolvedAt: string | null;
  /** The first alarm's own state-change time: the onset. */
  onsetAt: string;
  alarms: IncidentAlarm[];
  /** The postmortem's life (people set it); absent on an incident read from an older store: a draft with no owner. */
  postmortem?: PostmortemState;
}

/** A postmortem is a draft, then in review, then published (`review` reads "in review"). */
export type PostmortemStatus = 'draft' | 'review' | 'published';
export const POSTMORTEM_STATUSES: readonly PostmortemStatus[] = ['draft', 'review', 'published'];

export interface PostmortemState {
  status: PostmortemStatus;
  /** Who owns the write-up: a catalog user name, an e-mail or a Slack user id; null until someone takes it. */
  owner: string | null;
  /** Who last changed the status or the owner (from their credential), and when; null before anyone did. */
  updatedBy: string | null;
  updatedAt: string | null;
}

export type TimelineEventType =
  | 'alarm.received'
  | 'incident.opened'
  | 'alarm.attached'
  | 'alarm.stale'
  | 'incident.resolved';

export interface TimelineEntry {
  /** The Redis Stream entry id: orders entries, unique per incident. */
  id: string;
  /** UTC, ISO 8601, when Responder recorded the entry. */
  at: string;
  /** A TimelineEventType, or a type later parts of Responder add (step.*, approval.*, note). */
  type: string;
  data: Record<string, unknown>;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * Incident ids sort by creation time and are short enough to type in Slack
 * ("inc_01JD3M4X9QZ" …): 48-bit millisecond time and 40 random bits in Crockford base32, no ":"
 * so that they can be part of BullMQ job ids.
 */
export function newIncidentId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(5);
  let rand = '';
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      rand += CROCKFORD[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `inc_${time}${rand}`;
}

export const INCIDENT_ID_PATTERN = /^inc_[0-9A-Z]{18}$/;
