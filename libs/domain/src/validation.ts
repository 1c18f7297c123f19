import type { z } from 'zod';

/** A problem with an input, located by a dotted path ("detail.state.value"). */
export interface InputProblem {
  path: string;
  message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: InputProblem[] };

const MAX_SHOWN = 60;

/** Shows a received value briefly: enough to recognise it, never a whole payload. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? typeof value;
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(body)';
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

/**
 * Turns zod issues into one-line problems that say which field, what was expected and what came.
 * `showInput` is false for configuration, where a received value may be a secret.
 */
export function toProblems(error: z.ZodError, showInput = true): InputProblem[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    const raw = issue as { input?: unknown; code: string; issues?: Array<{ message?: string }> };
    let message = issue.message.replace(/^Invalid input: /, '').replace(/^Invalid option: /, '');
    if (raw.code === 'invalid_key' && raw.issues?.[0]?.message) {
      // A record's key (a service or person id): the key's own rule says what was expected.
      message = raw.issues[0].message;
    } else if (raw.code === 'invalid_type' && raw.input === undefined) {
      message = 'is required';
    } else if (showInput && (raw.code === 'invalid_value' || raw.code === 'invalid_format') && 'input' in raw) {
      message = `${message}, got ${describeValue(raw.input)}`;
    }
    return { path, message };
  });
}

export function problemsToText(problems: InputProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('; ');
}
