import { z } from 'zod';
import type { ApprovalButtonValue } from '../view';

const schema = z.object({
  incidentId: z.string().min(1),
  runId: z.string().min(1),
  step: z.string().min(1),
  paramsHash: z.string().regex(/^[0-9a-f]{16}$/),
});

/** A button's value as the builders wrote it; null for anything else (a forged or old button). */
export function parseButtonValue(raw: string | undefined): ApprovalButtonValue | null {
  if (!raw) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
