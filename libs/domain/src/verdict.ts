/**
 * The verdict: what the `diagnose` step outputs (libs/diagnosis computes it; runbooks/README.md
 * documents it), and how the API, the RCA and Slack read it back. Types and pure readers only.
 */

export const CAUSES = ['deployment', 'capacity', 'memory', 'dependency', 'database', 'health-check', 'infrastructure', 'configuration-change'] as const;
export type Cause = (typeof CAUSES)[number];

/** One finding for a hypothesis: which step showed it, in a sentence, and where a console page shows it. */
export interface EvidenceItem {
  step: string;
  text: string;
  link?: string;
}

export interface AgainstItem {
  step: string;
  text: string;
}

export interface Hypothesis {
  cause: Cause;
  confidence: number;
  summary: string;
  evidence: EvidenceItem[];
  against: AgainstItem[];
}

/** A check that could not inform the verdict: failed (with the IAM action for access denied), refused or not configured. */
export interface Gap {
  step: string;
  reason: string;
}

export interface Verdict {
  cause: Cause | 'unknown';
  confidence: number;
  summary: string;
  /** Best first. */
  hypotheses: Hypothesis[];
  gaps: Gap[];
  /** When the alarm's metric (else 5xx / latency) really started to move; null when no metric showed it. */
  impactStartedAt: string | null;
}

/** A hypothesis this weak, with evidence against it, was considered and ruled out. */
export const RULED_OUT_BELOW = 0.3;

/** Hypotheses considered and ruled out: weak, with named evidence against them (e.g. a decoy deployment). */
export function ruledOut(verdict: Pick<Verdict, 'cause' | 'hypotheses'>): Hypothesis[] {
  return verdict.hypotheses.filter((h) => h.cause !== verdict.cause && h.confidence < RULED_OUT_BELOW && h.against.length > 0);
}

// Reading a verdict back from where it was stored (a `diagnose` step's output): the API, the RCA
// and Slack show the latest one. Tolerant: a malformed output is no verdict, a malformed item is
// left out.

const DIAGNOSE_ACTION = 'diagnose';

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isCause(v: unknown): v is Cause {
  return typeof v === 'string' && (CAUSES as readonly string[]).includes(v);
}

const items = <T>(v: unknown, read: (x: Record<string, unknown>) => T | null): T[] => (Array.isArray(v) ? v.filter(isObj).map(read).filter((x): x is T => x !== null) : []);

function hypothesis(h: Record<string, unknown>): Hypothesis | null {
  if (!isCause(h.cause) || typeof h.confidence !== 'number') return null;
  return {
    cause: h.cause,
    confidence: h.confidence,
    summary: typeof h.summary === 'string' ? h.summary : '',
    evidence: items(h.evidence, (e) => (typeof e.step === 'string' && typeof e.text === 'string' ? { step: e.step, text: e.text, ...(typeof e.link === 'string' ? { link: e.link } : {}) } : null)),
    against: items(h.against, (e) => (typeof e.step === 'string' && typeof e.text === 'string' ? { step: e.step, text: e.text } : null)),
  };
}

/** A stored diagnose output as a Verdict, or null. */
export function verdictOf(output: unknown): Verdict | null {
  if (!isObj(output) || !(isCause(output.cause) || output.cause === 'unknown') || typeof output.confidence !== 'number') return null;
  return {
    cause: output.cause,
    confidence: output.confidence,
    summary: typeof output.summary === 'string' ? output.summary : '',
    hypotheses: items(output.hypotheses, hypothesis),
    gaps: items(output.gaps, (g): Gap | null => (typeof g.step === 'string' && typeof g.reason === 'string' ? { step: g.step, reason: g.reason } : null)),
    impactStartedAt: typeof output.impactStartedAt === 'string' ? output.impactStartedAt : null,
  };
}

export interface StepLike {
  action: string;
  status: string;
  finishedAt?: string | null;
  /** The output, or a function reading it (parsed only for diagnose steps). */
  output?: unknown;
}

/** The verdict of the `diagnose` step that finished last (any run of the incident), or null. */
export function latestVerdict(steps: Iterable<StepLike>): Verdict | null {
  let best: { at: string; verdict: Verdict } | null = null;
  for (const s of steps) {
    if (s.action !== DIAGNOSE_ACTION || s.status !== 'succeeded') continue;
    const verdict = verdictOf(typeof s.output === 'function' ? (s.output as () => unknown)() : s.output);
    const at = s.finishedAt ?? '';
    if (verdict && (!best || at >= best.at)) best = { at, verdict };
  }
  return best?.verdict ?? null;
}
