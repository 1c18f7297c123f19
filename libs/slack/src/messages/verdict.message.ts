import { type Verdict, latestVerdict, ruledOut } from '@responder/domain';
import type { SectionBlock } from '@slack/types';
import type { IncidentView } from '../view';
import { LIMITS, code, safe, safeLine, section, truncate } from './format';

/** How much of the verdict the incident message shows: the rest is in the thread and the RCA. */
const TOP_EVIDENCE = 3;
const MAX_RULED_OUT = 3;
const MAX_GAPS = 4;
const LINE_CHARS = 400;

const CAUSE_EMOJI: Readonly<Record<Verdict['cause'], string>> = {
  deployment: ':package:',
  capacity: ':chart_with_upwards_trend:',
  memory: ':brain:',
  dependency: ':link:',
  database: ':floppy_disk:',
  'health-check': ':stethoscope:',
  infrastructure: ':building_construction:',
  'configuration-change': ':wrench:',
  unknown: ':grey_question:',
};

const DIAGNOSE_ACTION = 'diagnose';

/** A console link as a Slack link; only https (a link comes from a step's output, not from us). */
function consoleLink(link: string | undefined): string {
  if (!link || !/^https:\/\/[^\s<>|]+$/.test(link)) return '';
  return ` · <${link.replace(/&/g, '&amp;')}|console>`;
}

/** The verdict the incident's runs hold now: the latest one, or whether one is coming. */
export function verdictState(view: IncidentView): { verdict: Verdict } | { pending: true } | { failed: string } | null {
  const steps = view.runs.flatMap((r) => r.steps).filter((s) => s.action === DIAGNOSE_ACTION);
  if (steps.length === 0) return null;
  const verdict = latestVerdict(steps);
  if (verdict) return { verdict };
  if (steps.some((s) => s.status === 'pending' || s.status === 'queued' || s.status === 'running')) return { pending: true };
  const failed = steps.find((s) => s.status === 'failed');
  return failed ? { failed: failed.error ?? 'failed' } : null;
}

/** The lines that lead the incident message: verdict, confidence, top evidence with links, ruled out, gaps. */
export function verdictLines(verdict: Verdict): string[] {
  const lines: string[] = [];
  const named = verdict.cause !== 'unknown';
  const top = named ? verdict.hypotheses.find((h) => h.cause === verdict.cause) : undefined;
  // The hypothesis's own sentence: the verdict's summary repeats the confidence shown beside it.
  const sentence = top?.summary ? top.summary.charAt(0).toUpperCase() + top.summary.slice(1) : verdict.summary;
  lines.push(`${CAUSE_EMOJI[verdict.cause]} *Verdict: ${safe(verdict.cause)}*${named ? ` (confidence ${verdict.confidence.toFixed(2)})` : ''} · ${safeLine(sentence, LINE_CHARS)}`);
  if (top) {
    for (const e of top.evidence.slice(0, TOP_EVIDENCE)) lines.push(`• ${safeLine(e.text, LINE_CHARS)} (${code(e.step, 40)})${consoleLink(e.link)}`);
  } else if (verdict.hypotheses.length > 0) {
    lines.push(`*Weighed*: ${verdict.hypotheses.slice(0, TOP_EVIDENCE).map((h) => `${safe(h.cause)} ${h.confidence.toFixed(2)}`).join(', ')}`);
  }
  const ruled = ruledOut(verdict).slice(0, MAX_RULED_OUT);
  if (ruled.length > 0) {
    lines.push(`*Ruled out*: ${ruled.map((h) => `${safe(h.cause)} (${safeLine(h.against[0]?.text ?? '', 200)})`).join('; ')}`);
  }
  if (verdict.gaps.length > 0) {
    const more = verdict.gaps.length > MAX_GAPS ? `; …and ${verdict.gaps.length - MAX_GAPS} more` : '';
    lines.push(`*Not checked*: ${verdict.gaps.slice(0, MAX_GAPS).map((g) => `${code(g.step, 40)} ${safeLine(g.reason, 200)}`).join('; ')}${more}`);
  }
  return lines;
}

/** The verdict section of the incident message, or null when no run diagnoses. */
export function verdictBlock(view: IncidentView): SectionBlock | null {
  const state = verdictState(view);
  if (!state) return null;
  if ('pending' in state) return section(':hourglass_flowing_sand: *Verdict*: _waiting for the diagnostics_');
  if ('failed' in state) return section(`:x: *Verdict*: the diagnosis failed: ${safeLine(state.failed, LINE_CHARS)}`);
  return section(truncate(verdictLines(state.verdict).join('\n'), LIMITS.sectionText));
}
