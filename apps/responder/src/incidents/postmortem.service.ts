import { Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { POSTMORTEM_STATUSES, type PostmortemStatus } from '@responder/domain';
import { IncidentStore, type PostmortemResult } from '@responder/store';

/** A postmortem change as the HTTP API and Slack's `/incident postmortem` take it: an owner, a status, or both. */
export const postmortemFields = {
  owner: z
    .string()
    .trim()
    .min(1, 'expected who owns the postmortem (a catalog user name, an e-mail or a Slack user id)')
    .max(200, 'expected at most 200 characters')
    .refine((v) => ![...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), 'expected printable characters only')
    .optional(),
  status: z.enum(POSTMORTEM_STATUSES as [PostmortemStatus, ...PostmortemStatus[]], { message: `expected one of ${POSTMORTEM_STATUSES.join(', ')}` }).optional(),
};
export const postmortemBody = z
  .object(postmortemFields)
  .strict()
  .refine((b) => b.owner !== undefined || b.status !== undefined, { message: 'expected owner, status or both' });

/**
 * The postmortem's life: its owner and status (draft → review → published), stored with the
 * incident and told on its timeline (`postmortem.updated`, which names who changed it). The
 * timeline entry goes through the change feed, so the Slack thread gets the new RCA version.
 */
@Injectable()
export class PostmortemService {
  private readonly logger = new Logger('Postmortem');

  constructor(private readonly incidents: IncidentStore) {}

  async set(incidentId: string, change: { owner?: string; status?: PostmortemStatus }, by: string, source: 'api' | 'slack'): Promise<PostmortemResult> {
    const result = await this.incidents.setPostmortem(incidentId, { ...change, by, source });
    if (result.outcome === 'changed') this.logger.log({ incidentId, by, source, status: result.status, owner: result.owner }, `postmortem of ${incidentId}: ${result.status}, owner ${result.owner ?? 'none'}`);
    return result;
  }
}
