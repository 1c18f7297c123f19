import { Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import type { TimelineEntry } from '@responder/domain';
import { IncidentStore } from '@responder/store';

export const NOTE_MAX_CHARS = 4000;

export interface NoteInput {
  /** Who writes it: a catalog user name, an e-mail, or a Slack user id. */
  author: string;
  text: string;
  source: 'api' | 'slack';
}

/** A note as the HTTP API and Slack's `/incident note` take it (text trimmed, 1 to 4000 characters). */
export const noteFields = {
  author: z.string().trim().min(1, 'expected who writes the note').max(200, 'expected at most 200 characters'),
  text: z.string().trim().min(1, `expected 1 to ${NOTE_MAX_CHARS} characters`).max(NOTE_MAX_CHARS, `expected 1 to ${NOTE_MAX_CHARS} characters`),
};
const noteSchema = z.object(noteFields);

/**
 * Notes from humans on an incident's timeline. The entry's `by` repeats the author: every entry a
 * person causes names them in `by` (approvals, the kill switch, notes written by runbooks), which
 * is what the RCA shows as the actor and counts as the first human response.
 */
@Injectable()
export class NotesService {
  private readonly logger = new Logger('Notes');

  constructor(private readonly incidents: IncidentStore) {}

  /** The timeline entry written, or null when there is no such incident. Throws RangeError for an empty or too long note. */
  async add(incidentId: string, note: NoteInput): Promise<TimelineEntry | null> {
    const parsed = noteSchema.safeParse(note);
    if (!parsed.success) throw new RangeError(`bad note: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const { author, text } = parsed.data;
    const entry = await this.incidents.appendIfExists(incidentId, 'note', { author, by: author, text, source: note.source });
    if (entry) this.logger.log({ incidentId, author, source: note.source, entryId: entry.id }, `note added to ${incidentId}`);
    return entry;
  }
}
