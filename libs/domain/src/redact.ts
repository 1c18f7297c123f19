const MASK = '[REDACTED]';

/**
 * Key/value secrets (`password=…`, `"token": "…"`, `x-api-key: …`): the key stays, so a reader sees
 * what was there, and a quoted value keeps its quotes, so JSON stays JSON.
 */
const KEYED = /\b(aws_secret_access_key|aws_session_token|password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)(["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s"',;&}]+)/gi;

/**
 * Masks tokens, keys and connection-string credentials in free text. The RCA is shared beyond the
 * on-call team, and alarm reasons, step outputs and notes are free text, so every string goes
 * through this before it is rendered.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/\bxox[abpr]-[A-Za-z0-9-]+/g, MASK)
    .replace(/\bxapp-[A-Za-z0-9-]+/g, MASK)
    .replace(/\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b/g, MASK)
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${MASK}`)
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/]*):([^\s@/]+)@/gi, `$1$2:${MASK}@`)
    .replace(KEYED, (_m, key: string, sep: string, value: string) => `${key}${sep}${/^["']/.test(value) ? `${value[0]}${MASK}${value[0]}` : MASK}`);
}

/** Every string in a JSON-like value, redacted (keys are kept: they are names, not secrets). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v)) as T;
  if (value instanceof Date) return value;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}
