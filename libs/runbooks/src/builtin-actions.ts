import { type Action, type AnyAction, type ActionContext, type ActionDescriptor, type ActionOutcome, type ActionResult, PermanentActionError } from '@responder/domain';
import { diagnoseAction } from './diagnose-action';

/** The actions every Responder has, whatever the AWS adapters: `wait`, `note` and `diagnose`. */

const MAX_WAIT_SECONDS = 3600;

function seconds(params: Record<string, unknown>): number {
  const s = params.seconds;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0 || s > MAX_WAIT_SECONDS) {
    throw new PermanentActionError(`wait: "seconds" must be a number from 0 to ${MAX_WAIT_SECONDS}, got ${JSON.stringify(s) ?? 'nothing'}`);
  }
  return s;
}

function text(params: Record<string, unknown>): string {
  const t = params.text;
  if (typeof t !== 'string' || t.trim() === '') throw new PermanentActionError(`note: "text" must be a non-empty string, got ${JSON.stringify(t) ?? 'nothing'}`);
  return t;
}

/** Where a `wait` is: when it began and when it ends (ms since the epoch). */
export interface WaitCheckpoint {
  startedAt: number;
  until: number;
}

/**
 * Waits `with: { seconds }` (e.g. for a scale-up to take effect before checking again) without
 * holding a worker: its first run answers "again at the deadline" (ActionAgain), and the run at or
 * after the deadline returns. The deadline is kept in the checkpoint, so a resumed job neither
 * waits again from the start nor ends early.
 */
export const waitAction: Action<ActionOutcome> = {
  id: 'wait',
  mutating: false,
  description: 'Wait a number of seconds (with: { seconds }).',
  plan: (params) => ({ summary: `wait ${seconds(params)}s` }),
  run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionOutcome> {
    return new Promise((resolve) => {
      ctx.signal.throwIfAborted();
      const now = Date.now();
      const checkpoint = waitCheckpoint(ctx.checkpoint) ?? { startedAt: now, until: now + seconds(params) * 1000 };
      if (now < checkpoint.until) {
        resolve({ again: { afterMs: checkpoint.until - now, state: { ...checkpoint } } });
        return;
      }
      const waitedMs = now - checkpoint.startedAt;
      resolve({ output: { waitedMs }, summary: `waited ${Math.round(waitedMs / 1000)}s` });
    });
  },
};

function waitCheckpoint(raw: Record<string, unknown> | undefined): WaitCheckpoint | null {
  if (!raw || typeof raw.startedAt !== 'number' || typeof raw.until !== 'number') return null;
  return { startedAt: raw.startedAt, until: raw.until };
}

/** Puts `with: { text }` on the incident's timeline (the engine records the output's text). */
export const noteAction: Action = {
  id: 'note',
  mutating: false,
  description: 'Add a note to the incident timeline (with: { text }).',
  plan: (params) => ({ summary: `note: ${text(params).slice(0, 80)}` }),
  run(params: Record<string, unknown>): Promise<ActionResult> {
    // A throw inside the executor rejects: callers always get a promise, never a synchronous throw.
    return new Promise((resolve) => {
      const t = text(params);
      resolve({ output: { text: t }, summary: t.length > 120 ? `${t.slice(0, 119)}…` : t });
    });
  },
};

export const BUILTIN_ACTIONS: AnyAction[] = [waitAction, noteAction, diagnoseAction];

/** An id → descriptor map, as parseRunbook and loadRunbooks take it. A repeated id is a programming error. */
export function descriptorMap(actions: readonly ActionDescriptor[]): Map<string, ActionDescriptor> {
  const map = new Map<string, ActionDescriptor>();
  for (const a of actions) {
    if (map.has(a.id)) throw new Error(`action id "${a.id}" is registered twice`);
    map.set(a.id, { id: a.id, mutating: a.mutating, description: a.description, iam: a.iam });
  }
  return map;
}

/**
 * The actions runbooks may name, as the CLI and the service validate them: the built-ins, plus
 * `extra` (the AWS actions, when they exist, belong in this one list).
 */
export function knownActions(extra: readonly ActionDescriptor[] = []): Map<string, ActionDescriptor> {
  return descriptorMap([...BUILTIN_ACTIONS, ...extra]);
}
