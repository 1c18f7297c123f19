import { ruledOut } from '@responder/domain';
import { clock, day, ms, stamp } from './format';
import { type RcaInput, type RcaMetricFigure, type RcaModel, type RcaPart, type RcaProse, buildRca, duration } from './model';

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
  const pm = model.postmortem;
  const setBy = pm.updatedBy ? ` (last set by ${text(pm.updatedBy)}${pm.updatedAt ? ` at ${at(pm.updatedAt)}` : ''})` : '';
  block(
    `**Postmortem**: ${pm.label}; owner: ${pm.owner ? text(pm.owner) : `${NONE} (none yet: \`/incident postmortem ${model.incidentId} owner @someone\`)`}${setBy}`,
  );
  block(
    model.draft
      ? `> **Draft — check before publishing.** Written by Responder from incident ${code(model.incidentId)}'s timeline at ${stamp(writtenAt)}; every sentence below needs a human to confirm it.`
      : `> **Published** by its owner. Written by Responder from incident ${code(model.incidentId)}'s timeline at ${stamp(writtenAt)} and reviewed by people.`,
  );

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
    `- **Outcome**: ${outcomeLine(model)}`,
  );

  block('## Impact');
  const figure = (name: string, f: RcaMetricFigure | null) =>
    f
      ? `- **${name}**: ${text(f.label)}: peak ${f.peak ?? NONE}${f.peakAt ? ` at ${at(f.peakAt)}` : ''}, baseline ${f.baseline !== null ? round(f.baseline) : NONE}${f.link ? ` (<${f.link}>)` : ''}`
      : `- **${name}**: ${NONE} (no such metric in the diagnostics)`;
  block(
    `- **Service**: ${model.service ? text(model.service) : NONE}`,
    `- **Window**: ${w.start ? stamp(Date.parse(w.start)) : NONE} (impact started) to ${w.end ? `${stamp(Date.parse(w.end))} (alarms back to OK)` : 'ongoing'}${w.durationMs !== null ? `, ${duration(w.durationMs)}` : ''}`,
    figure("The alarm's metric", model.impact.alarmMetric),
    model.impact.errors5xx && model.impact.errors5xx.label === model.impact.alarmMetric?.label ? "- **5xx**: the alarm's metric above" : figure('5xx', model.impact.errors5xx),
    failedLine(model.impact.failedRequests),
    '- **Users and revenue affected**: to be filled in by the responders',
  );
  const chart = xychartOf(model);
  if (chart) block(fence('mermaid', chart));

  if (model.verdict) {
    const v = model.verdict;
    const top = v.hypotheses.find((h) => h.cause === v.cause);
    block('## Root cause and trigger (hypothesis)');
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

  block('## Detection');
  const chain = [
    ['impact started', k.onset],
    ['alarm fired', k.alarm],
    ['incident opened', k.detected],
    ['first human response', k.firstHumanResponse],
  ].filter((x): x is [string, string] => x[1] !== null);
  if (chain.length > 1) {
    block(chain.map(([label, t], i) => (i === 0 ? `${label} ${clock(Date.parse(t))}` : `${label} ${clock(Date.parse(t))} (+${duration(Date.parse(t) - Date.parse(chain[i - 1][1]))})`)).join(' → ') + '.');
  }
  block('### Key times (UTC)');
  block(
    '| Moment | Time (UTC) |',
    '| --- | --- |',
    `| Impact started (first movement of the alarm's metric, else the alarm) | ${at(k.onset)} |`,
    `| Alarm fired (state change) | ${at(k.alarm)} |`,
    `| Detected (incident opened) | ${at(k.detected)} |`,
    `| First human response | ${at(k.firstHumanResponse)} |`,
    `| Mitigated (first mitigating action succeeded) | ${at(k.mitigated)} |`,
    `| Resolved (alarms back to OK) | ${at(k.resolved)} |`,
  );
  const took = (v: number | null) => (v === null ? NONE : duration(v));
  block(
    '| Duration | Value |',
    '| --- | --- |',
    `| Time to detect (impact started → incident opened) | ${took(d.toDetectMs)} |`,
    `| Time to acknowledge (detected → first human response) | ${took(d.toAcknowledgeMs)} |`,
    `| Time to mitigate (onset → mitigated) | ${took(d.toMitigateMs)} |`,
    `| Time to resolve (onset → resolved) | ${took(d.toResolveMs)} |`,
  );

  const response = ganttOf(model);
  if (response) {
    block('### The response');
    block(fence('mermaid', response));
  }

  block('## Timeline');
  // Times show the date only when it is not the onset's day (an incident across midnight).
  const first = model.timeline[0];
  const base = first ? Date.parse(first.at) - first.sinceOnsetMs : 0;
  const table = (entries: RcaModel['timeline']) => {
    const rows = entries.map((row) => {
      const t = Date.parse(row.at);
      const when = day(t) === day(base) ? clock(t) : `${day(t)} ${clock(t)}`;
      return `| ${when} | ${elapsed(row.sinceOnsetMs)} | ${cell(row.event)} | ${cell(row.actor)} |`;
    });
    return ['| Time (UTC) | Since onset | Event | Actor |', '| --- | --- | --- | --- |', ...(rows.length ? rows : [`| ${NONE} | ${NONE} | no timeline entries | ${NONE} |`])];
  };
  block('Decisions and turning points:');
  block(...table(model.decisions));
  block('<details>', `<summary>The full event log (${model.timeline.length} entries)</summary>`);
  block(...table(model.timeline));
  block('</details>');

  block('## Findings');
  if (!model.findings.length) block(`${NONE} No diagnostic ran.`);
  for (const f of model.findings) {
    block(`### ${text(f.runbook)}: ${text(f.step)} (${text(f.action)})`);
    const bullets = [...f.sentences.map((s) => `- ${md(s)}`), `- Status: ${text(f.status)}${f.error ? `: ${text(f.error)}` : f.reason ? `: ${text(f.reason)}` : ''}`];
    for (const h of f.highlights) bullets.push(`- ${text(h.key)}: ${md(h.value)}`);
    block(...bullets);
    if (f.links.length) {
      block('In the console:');
      block(...f.links.map((l) => `- <${l}>`));
    }
    for (const { kind, value } of f.rerun) {
      block(`To re-run (${kind}):`);
      block(fence('json', JSON.stringify(value, null, 2)));
    }
  }

  block('## Response and recovery');
  const o = model.outcome;
  block(`**Outcome**: ${outcomeLine(model)}.`);
  const took2 = (v: number | null) => (v === null ? NONE : duration(v));
  block(
    '| Phase | Time |',
    '| --- | --- |',
    `| Impact started → alarm (time to detect) | ${took2(o.phases.detectMs)} |`,
    `| Alarm → verdict | ${took2(o.phases.diagnoseMs)} |`,
    `| Alarm → first human (approval, rejection or note) | ${took2(o.phases.acknowledgeMs)} |`,
    `| Alarm → mitigation (first change to production) | ${took2(o.phases.mitigateMs)} |`,
    `| Mitigation → recovery (alarms back to OK) | ${took2(o.phases.recoverMs)} |`,
    `| Impact started → recovery | ${took2(o.phases.restoreMs)} |`,
    ...(o.cause === 'deployment' ? [`| Failed deployment recovery time (DORA: impact started → recovery) | ${took2(o.failedDeploymentRecoveryMs)} |`] : []),
  );
  if (!model.actions.length) block(`${NONE} No mitigating action was planned.`);
  for (const a of model.actions) {
    block(`### ${text(a.runbook)}: ${text(a.step)} (${text(a.action)})`);
    if (!a.called) {
      // Nothing was called, so there is no request id to show: say why instead.
      block(
        `- Not called: ${text(a.notCalled ?? a.status)}`,
        `- Approval: ${text(a.approval.text)}`,
        ...(a.plan ? [`- Plan: ${text(a.plan)}`] : []),
        ...(a.finishedAt ? [`- Decided: ${at(a.finishedAt)}`] : []),
      );
      continue;
    }
    block(
      `- Approval: ${text(a.approval.text)}`,
      `- Plan: ${a.plan ? text(a.plan) : NONE}`,
      `- Outcome: ${text(a.status)}${a.summary ? `: ${text(a.summary)}` : ''}${a.error ? `: ${text(a.error)}` : ''}${a.reason ? ` (${text(a.reason)})` : ''}`,
      ...(a.goal ? [`- Goal: ${a.goal === 'met' ? 'met' : '**missed**: the call was made and did not work; the incident was not mitigated by it'}`] : []),
      `- Request id: ${a.requestId ? code(a.requestId) : NONE}`,
      `- Started: ${at(a.startedAt)}; finished: ${at(a.finishedAt)}`,
    );
    if (a.params && Object.keys(a.params).length) {
      block('Parameters:');
      block(fence('json', JSON.stringify(a.params, null, 2)));
    }
  }

  const promptSection = (title: string) => {
    const section = model.prompts.find((s) => s.title === title);
    if (!section) return;
    block(`### ${section.title}`);
    block(`> ${section.prompt}`);
    block(...(section.items.length ? section.items.map((p) => `- ${md(p)}`) : [`- ${NONE}`]));
  };

  block('## Action items');
  block('> Pre-filled where the evidence supports it; each needs an owner, a due date and a ticket.');
  block(
    '| Action | Kind | Owner | Due |',
    '| --- | --- | --- | --- |',
    ...(model.actionItems.length ? model.actionItems.map((a) => `| ${md(a.item)} | ${a.kind} | ${a.owner ? text(a.owner) : NONE} | ${a.due ?? NONE} |`) : [`| ${NONE} | ${NONE} | ${NONE} | ${NONE} |`]),
  );

  block('## Lessons learned');
  promptSection('What went well');
  promptSection('What went wrong');
  promptSection('Where we got lucky');

  block('## 5 whys');
  block('> Seeded from the verdict; keep asking why until the answer is something the team can change.');
  block('| # | Why? | Because |', '| --- | --- | --- |', ...model.whys.map((row, i) => `| ${i + 1} | ${md(row.why)} | ${row.answer ? md(row.answer) : NONE} |`));
  promptSection('Root cause');

  while (out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
}

/** The outcome in words, with the time to recovery when there was one. */
function outcomeLine(model: RcaModel): string {
  const o = model.outcome;
  const restored = o.phases.restoreMs !== null ? `; recovered ${duration(o.phases.restoreMs)} after the impact began` : '';
  return `${text(o.text)}${restored}`;
}

/** The failed-request estimate with how it was made, or — with the reason. */
function failedLine(f: RcaModel['impact']['failedRequests']): string {
  if (f.estimate === null) return `- **Failed requests**: ${NONE} (${text(f.method)})`;
  return `- **Failed requests**: about ${f.estimate.toLocaleString('en-US')} (${text(f.method)})`;
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

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) < 10 ? 2 : 1);
}

/** "2024-11-22 23:57:00", the gantt's dateFormat. */
function ganttTime(t: number): string {
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}

/** A gantt task name: mermaid ends a name at ":" and a line at ";" or "#". */
function ganttName(s: string): string {
  return s.replace(/[:;#]/g, ' ').replace(/\s+/g, ' ').trim() || 'step';
}

/**
 * A mermaid gantt of the response: the impact, each diagnostic, each approval wait and mitigation,
 * and the milestones (alarm, incident, resolved). Null without an onset.
 */
export function ganttOf(model: RcaModel): string | null {
  const k = model.keyTimes;
  const onset = ms(k.onset);
  if (onset === undefined) return null;
  const end = ms(k.resolved) ?? Date.parse(model.writtenAt);
  const lines = ['gantt', '  title The response', '  dateFormat YYYY-MM-DD HH:mm:ss', '  axisFormat %H:%M'];
  let n = 0;
  const task = (name: string, from: number, to: number, tag?: string) =>
    lines.push(`  ${ganttName(name)} :${tag ? `${tag}, ` : ''}t${n++}, ${ganttTime(from)}, ${ganttTime(Math.max(to, from + 1000))}`);
  const milestone = (name: string, t: string | null) => {
    const at = ms(t);
    if (at !== undefined) lines.push(`  ${ganttName(name)} :milestone, t${n++}, ${ganttTime(at)}, 0s`);
  };
  lines.push('  section Impact');
  task(model.summary.impactWindow.ongoing ? 'Impact (ongoing)' : 'Impact', onset, end, 'crit');
  milestone('Alarm fired', k.alarm);
  milestone('Incident opened', k.detected);
  const timed = model.findings.filter((f) => f.startedAt && f.finishedAt);
  if (timed.length) {
    lines.push('  section Diagnostics');
    for (const f of timed) task(f.step, Date.parse(f.startedAt!), Date.parse(f.finishedAt!), f.status === 'failed' ? 'crit' : undefined);
  }
  const waits = model.actions
    .map((a) => {
      const asked = model.timeline.find((e) => e.type === 'approval.requested' && e.event.startsWith(`Approval requested for step ${a.step}`));
      const decided = model.timeline.find((e) => /^approval\.(granted|rejected|timed_out)$/.test(e.type) && e.event.toLowerCase().includes(`step ${a.step}`));
      return asked && decided ? { step: a.step, from: Date.parse(asked.at), to: Date.parse(decided.at) } : null;
    })
    .filter((x): x is { step: string; from: number; to: number } => x !== null);
  if (waits.length) {
    lines.push('  section Approvals');
    for (const w of waits) task(`${w.step} waits for approval`, w.from, w.to);
  }
  const ran = model.actions.filter((a) => a.startedAt && a.finishedAt);
  if (ran.length) {
    lines.push('  section Mitigation');
    for (const a of ran) task(a.step, Date.parse(a.startedAt!), Date.parse(a.finishedAt!), a.status === 'succeeded' ? 'done' : a.status === 'failed' ? 'crit' : undefined);
  }
  lines.push('  section Recovery');
  milestone('Mitigated', k.mitigated);
  milestone('Resolved', k.resolved);
  return lines.join('\n');
}

/**
 * A mermaid xychart of the alarm's metric (else the 5xx count) around the incident: its points as a
 * line and its baseline as a flat second line. Null when the metrics step kept no series.
 */
export function xychartOf(model: RcaModel): string | null {
  const f = model.impact.alarmMetric?.series ? model.impact.alarmMetric : model.impact.errors5xx?.series ? model.impact.errors5xx : null;
  if (!f?.series) return null;
  const quote = (s: string) => `"${s.replace(/"/g, "'").replace(/\s+/g, ' ')}"`;
  const value = (v: number) => String(Math.round(v * 1000) / 1000);
  const lines = [
    'xychart-beta',
    `  title ${quote(`${f.label} (line) and its baseline (flat line), UTC`)}`,
    `  x-axis [${f.series.map(([t]) => quote(clock(t).slice(0, 5))).join(', ')}]`,
    `  y-axis ${quote(f.label)}`,
    `  line [${f.series.map(([, v]) => value(v)).join(', ')}]`,
  ];
  if (f.baseline !== null) lines.push(`  line [${f.series.map(() => value(f.baseline!)).join(', ')}]`);
  return lines.join('\n');
}
