import type { ActionDescriptor } from '@responder/domain';

export type Write = (text: string) => void;

/** What a command may touch: the environment, stdout (data) and stderr (messages), the known actions. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: Write;
  err: Write;
  /** The actions runbooks may name (tests pass their own registry). */
  actions: ReadonlyMap<string, ActionDescriptor>;
}

/**
 * Exit codes, the same for every command (documented in `responder --help` and the README):
 * 0 done; 1 the command ran and the answer is no (problems found, not found, refused, unreachable);
 * 2 the command line itself is wrong.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
