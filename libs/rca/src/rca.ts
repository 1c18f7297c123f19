import { ruledOut } from '@responder/diagnosis';
import { clock, day, ms, stamp } from './format';
import { type RcaInput, type RcaModel, type RcaPart, type RcaProse, buildRca, duration } from './model';

const NONE = '—';

/**
 * The RCA draft of an incident as GitHub-flavoured markdown (lint-clean with the repo's
 * .markdownlint-cli2.jsonc). Pure: the same input always renders the same document. It is the
 * markdown form of `buildRca(input)`, so rca.md and rca.json never say different things.
 */
export function renderRca(input: RcaInput): string {
  return renderRcaMarkdown(buildRca(input));
}

/** Renders a model built by buildRca; it adds layout and wording, never facts. */
export function renderRcaMarkdown(model: RcaModel): string {
  const out: string[] = [];
  const block = (...lines: string[]) => out.push(...lines, '');
  const { summary, keyTimes: k, durations: d } = model;
  const writtenAt = Date.parse(model.writtenAt);

  block(`# ${md(model.title)}`);
  block(`> **Draft — check before publishing.** Written by Responder from incident ${code(model.incidentId)}'s timeline at ${stamp(writtenAt)}; every sentence below needs a human to confirm it.`);

  block('## Summary');
  const w = summary.impactWindow;
  const window = w.end
    ? `${stamp(Date.parse(w.end))} (${w.durationMs !== null ? duration(w.durationMs) : NONE})`
    : `still open at ${stamp(writtenAt)}${w.durationMs !== null ? ` (${duration(w.durationMs)} so far)` : ''}`;
  block(
    `- **What happened**: ${md(summary.whatHappened)}`,
    `- **Impact window**: ${w.start ? stamp(Date.parse(w.start)) : NONE} to ${window}`,
    `- **Status**: ${summary.status}`,
    `- **Severity**: ${NONE} (to be set by the responders)`,
    `- **Mitigation**: ${summary.mitigations.length ? summary.mitigations.map((m) => `${text(m.description)} (${text(m.approval)})`).join('; ') : 'no mitigating action succeeded.'}`,
  );

  if (model.verdict) {
    const v = model.verdict;
    const top = v.hypotheses.find((h) => h.cause === v.cause);
    block('## Root cause (hypothesis)');
    block("> Responder's verdict from the diagnostics, with its evidence: a hypothesis for the responders to confirm or correct.");
    block(
      `- **Cause**: ${v.cause} (confidence ${v.confidence.toFixed(2)})`,
      `- **Verdict**: ${text(v.summary)}`,
      `- **Impact started**: ${at(v.impactStartedAt)}`,
    );
    if (top && top.evidence.length) {
      block('Evidence:');
      block(...top.evidence.map((e) => `- ${code(e.step)}: ${text(e.text)}${e.link ? ` (${text(e.link)})` : ''}`));
    }
    if (top && top.against.length) {
      block('Against it:');
      block(...top.against.map((e) => `- ${code(e.step)}: ${text(e.text)}`));
    }
    const others = v.cause === 'unknown' ? v.hypotheses : [];
    if (others.length) {
      block('Hypotheses weighed (none clearly ahead):');
      block(...others.map((h) => `- ${h.cause} (${h.confidence.toFixed(2)}): ${text(h.summary)}`));
    }
    const ruled = ruledOut(v);
    if (ruled.length) {
      block('Ruled out:');
      block(...ruled.map((h) => `- ${h.cause} (${h.confidence.toFixed(2)}): ${h.against.map((a) => text(a.text)).join('; ')}`));
    }
    if (v.gaps.length) {
      block('Not checked:');
      block(...v.gaps.map((g) => `- ${code(g.step)}: ${text(g.reason)}`));
    }
  }

  block('## Key times (UTC)');
  block(
    '| Moment | Time (UTC) |',
    '| --- | --- |',
    `| Onset (alarm state change) | ${at(k.onset)} |`,
    `| Detected (incident opened) | ${at(k.detected)} |`,
    `| First human response | ${at(k.firstHumanResponse)} |`,
    `| Mitigated (first mitigating action succeeded) | ${at(k.mitigated)} |`,
    `| Resolved (alarms back to OK) | ${at(k.resolved)} |`,
  );
  const took = (v: number | null) => (v === null ? NONE : duration(v));
  block(
    '| Duration | Value |',
    '| --- | --- |',
    `| Time to detect (onset → detected) | ${took(d.toDetectMs)} |`,
    `| Time to acknowledge (detected → first human response) | ${took(d.toAcknowledgeMs)} |`,
    `| Time to mitigate (onset → mitigated) | ${took(d.toMitigateMs)} |`,
    `| Time to resolve (onset → resolved) | ${took(d.toResolveMs)} |`,
  );

  block('## Timeline');
  // Times show the date only when it is not the onset's day (an incident across midnight).
  const first = model.timeline[0];
  const base = first ? Date.parse(first.at) - first.sinceOnsetMs : 0;
  const rows = model.timeline.map((row) => {
    const t = Date.parse(row.at);
    const when = day(t) === day(base) ? clock(t) : `${day(t)} ${clock(t)}`;
    return `| ${when} | ${elapsed(row.sinceOnsetMs)} | ${cell(row.event)} | ${cell(row.actor)} |`;
  });
  block('| Time (UTC) | Since onset | Event | Actor |', '| --- | --- | --- | --- |', ...(rows.length ? rows : [`| ${NONE} | ${NONE} | no timeline entries | ${NONE} |`]));

  block('## Findings');
  if (!model.findings.length) block(`${NONE} No diagnostic ran.`);
  for (const f of model.findings) {
    block(`### ${text(f.runbook)}: ${text(f.step)} (${text(f.action)})`);
    const bullets = [`- Status: ${text(f.status)}${f.error ? `: ${text(f.error)}` : f.reason ? `: ${text(f.reason)}` : ''}`];
    if (f.summary) bullets.push(`- ${text(f.summary)}`);
    for (const h of f.highlights) bullets.push(`- ${text(h.key)}: ${md(h.value)}`);
    block(...bullets);
    for (const { kind, value } of f.rerun) {
      block(`To re-run (${kind}):`);
      block(fence('json', JSON.stringify(value, null, 2)));
    }
  }

  block('## Actions taken');
  if (!model.actions.length) block(`${NONE} No mitigating action was planned.`);
  for (const a of model.actions) {
    block(`### ${text(a.runbook)}: ${text(a.step)} (${text(a.action)})`);
    block(
      `- Approval: ${text(a.approval.text)}`,
      `- Plan: ${a.plan ? text(a.plan) : NONE}`,
      `- Outcome: ${text(a.status)}${a.summary ? `: ${text(a.summary)}` : ''}${a.error ? `: ${text(a.error)}` : ''}${a.reason ? ` (${text(a.reason)})` : ''}`,
      `- Request id: ${a.requestId ? code(a.requestId) : NONE}`,
      `- Started: ${at(a.startedAt)}; finished: ${at(a.finishedAt)}`,
    );
    if (a.params && Object.keys(a.params).length) {
      block('Parameters:');
      block(fence('json', JSON.stringify(a.params, null, 2)));
    }
  }

  for (const section of model.prompts) {
    block(`## ${section.title}`);
    block(`> ${section.prompt}`);
    block(...(section.items.length ? section.items.map((p) => `- ${md(p)}`) : [`- ${NONE}`]));
  }

  while (out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
}

/** Prose as markdown: Responder's words as they are, free text escaped, identifiers as code. */
function md(p: RcaProse): string {
  return p.parts.map((part: RcaPart) => (typeof part === 'string' ? part : 'code' in part ? code(part.code) : text(part.text))).join('');
}

/** A moment (UTC ISO) in the document's format, or — when it has not happened or is unreadable. */
function at(iso: string | null): string {
  const t = ms(iso);
  return t === undefined ? NONE : stamp(t);
}

function elapsed(msValue: number): string {
  return msValue < 0 ? duration(msValue) : `+${duration(msValue)}`;
}

const URL = /https?:\/\/[^\s<>|]+/g;

/** Inline markdown text: one line, markdown syntax escaped, bare URLs made autolinks (MD034). */
function text(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  let out = '';
  let last = 0;
  for (const m of flat.matchAll(URL)) {
    out += escape(flat.slice(last, m.index)) + `<${m[0]}>`;
    last = m.index + m[0].length;
  }
  return out + escape(flat.slice(last));
}

/** Markdown syntax escaped; `@` too, so that an approver's e-mail address is not a bare link (MD034). */
function escape(s: string): string {
  return s.replace(/[\\`*_[\]<>#|~@]/g, (c) => `\\${c}`);
}

/** A table cell: text() already escapes `|`, so a cell never splits. */
function cell(s: string): string {
  return text(s) || NONE;
}

function code(s: string): string {
  const flat = s.replace(/\s+/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((r) => r.length));
  const ticks = '`'.repeat(longest + 1);
  return flat.includes('`') ? `${ticks} ${flat} ${ticks}` : `${ticks}${flat}${ticks}`;
}

function fence(lang: string, body: string): string {
  const longest = Math.max(2, ...(body.match(/`{3,}/g) ?? []).map((r) => r.length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${body}\n${f}`;
}
