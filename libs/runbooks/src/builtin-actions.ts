import { type Action, type ActionContext, type ActionDescriptor, type ActionResult, PermanentActionError } from '@responder/domain';
import { diagnoseAction } from './diagnose-action';

/** The actions every Responder has, whatever the AWS adapters: `wait`, `note` and `diagnose`. */

const MAX_WAIT_SECONDS = 3600;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

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

/** Waits `with: { seconds }` (e.g. for a scale-up to take effect before checking again); stops when the step is aborted. */
export const waitAction: Action = {
  id: 'wait',
  mutating: false,
  description: 'Wait a number of seconds (with: { seconds }).',
  plan: (params) => ({ summary: `wait ${seconds(params)}s` }),
  async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
    const ms = seconds(params) * 1000;
    const started = Date.now();
    await sleep(ms, ctx.signal);
    const waitedMs = Date.now() - started;
    return { output: { waitedMs }, summary: `waited ${Math.round(waitedMs / 1000)}s` };
  },
};

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

export const BUILTIN_ACTIONS: Action[] = [waitAction, noteAction, diagnoseAction];

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
