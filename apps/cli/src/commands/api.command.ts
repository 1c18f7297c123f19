import { EXIT, type CliIo } from './io';

/**
 * The commands that talk to a running service over its HTTP API: `incidents list|show`,
 * `approve`, `reject`, `pause`, `resume`. The service is `--url` or $RESPONDER_URL (default
 * http://127.0.0.1:3000); the credential is $RESPONDER_TOKEN (your own token: approvals are made as
 * the person it belongs to), else $API_TOKEN (read-only and automation calls). A token is never a
 * flag, so it stays out of shell history and `ps`.
 */

type Io = Pick<CliIo, 'env' | 'out' | 'err'>;

export interface ApiOptions {
  url?: string;
}

class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly body: unknown = undefined,
  ) {
    super(message);
  }
}

async function call(method: 'GET' | 'POST', path: string, opts: ApiOptions, { env }: Io, body?: unknown): Promise<unknown> {
  const base = (opts.url ?? env.RESPONDER_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const token = env.RESPONDER_TOKEN || env.API_TOKEN;
  if (!token) throw new ApiError('no credential: set RESPONDER_TOKEN (your personal token) or API_TOKEN', null);
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new ApiError(`cannot reach ${base}: ${cause}`, null);
  }
  const text = await res.text();
  let data: unknown = text;
  try {
    data = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    // not JSON: keep the text
  }
  if (!res.ok) {
    const message = typeof data === 'object' && data !== null && 'message' in data ? String(data.message) : text || res.statusText;
    throw new ApiError(`${res.status} ${message}`, res.status, data);
  }
  return data;
}

/** Runs an API command: its errors become one line on stderr and exit 1. */
async function guarded(io: Io, name: string, fn: () => Promise<void>): Promise<number> {
  try {
    await fn();
    return EXIT.ok;
  } catch (e) {
    io.err(`${name}: ${(e as Error).message}\n`);
    return EXIT.failed;
  }
}

interface IncidentSummary {
  id: string;
  status: string;
  service: string | null;
  title: string;
  openedAt: string;
  resolvedAt: string | null;
}

interface StepView {
  id: string;
  status: string;
  action?: string;
  plan?: string;
  paramsHash?: string;
  approval?: string;
  summary?: string;
  error?: string;
  reason?: string;
}

interface IncidentDetail extends IncidentSummary {
  verdict?: { cause: string; confidence: number; summary: string } | null;
  runs: Array<{ id: string; runbook: string; status: string; steps: StepView[] }>;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

export function incidentsList(opts: ApiOptions & { status?: string; service?: string; limit?: string; json?: boolean }, io: Io): Promise<number> {
  return guarded(io, 'incidents list', async () => {
    const q = new URLSearchParams();
    if (opts.status) q.set('status', opts.status);
    if (opts.service) q.set('service', opts.service);
    if (opts.limit) q.set('limit', opts.limit);
    const page = (await call('GET', `/incidents${q.size > 0 ? `?${q.toString()}` : ''}`, opts, io)) as { items: IncidentSummary[]; total: number };
    if (opts.json) {
      io.out(`${JSON.stringify(page, null, 2)}\n`);
      return;
    }
    if (page.items.length === 0) {
      io.err('no incidents\n');
      return;
    }
    const rows = page.items.map((i) => [i.id, i.status, i.service ?? '(unrouted)', i.openedAt, i.title]);
    const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c].length), ['ID', 'STATUS', 'SERVICE', 'OPENED'][c].length));
    io.out(`${['ID', 'STATUS', 'SERVICE', 'OPENED'].map((h, c) => pad(h, widths[c])).join('  ')}  TITLE\n`);
    for (const r of rows) io.out(`${r.slice(0, 4).map((v, c) => pad(v, widths[c])).join('  ')}  ${r[4]}\n`);
    if (page.total > page.items.length) io.err(`${page.items.length} of ${page.total} shown (--limit)\n`);
  });
}

export function incidentsShow(id: string, opts: ApiOptions & { json?: boolean }, io: Io): Promise<number> {
  return guarded(io, 'incidents show', async () => {
    const incident = (await call('GET', `/incidents/${encodeURIComponent(id)}`, opts, io)) as IncidentDetail;
    if (opts.json) {
      io.out(`${JSON.stringify(incident, null, 2)}\n`);
      return;
    }
    io.out(`${incident.title}\n${incident.id} · ${incident.status} · ${incident.service ?? '(unrouted)'} · opened ${incident.openedAt}${incident.resolvedAt ? ` · resolved ${incident.resolvedAt}` : ''}\n`);
    if (incident.verdict) io.out(`verdict: ${incident.verdict.cause} (${Math.round(incident.verdict.confidence * 100)}%): ${incident.verdict.summary}\n`);
    for (const run of incident.runs) {
      io.out(`\nrun ${run.runbook} (${run.status})\n`);
      for (const s of run.steps) {
        const detail = s.plan ?? s.summary ?? s.error ?? s.reason ?? '';
        io.out(`  ${pad(s.id, 20)} ${pad(s.status, 18)} ${detail}${s.approval === 'pending' ? `  [awaiting approval, hash ${s.paramsHash}]` : ''}\n`);
      }
    }
  });
}

/** The step of the incident's runs named `step` (`<runbook>.<step>` when several runs have it). */
function findStep(incident: IncidentDetail, step: string): StepView | undefined {
  const dot = step.indexOf('.');
  for (const run of incident.runs) {
    for (const s of run.steps) if (s.id === step || (dot > 0 && run.runbook === step.slice(0, dot) && s.id === step.slice(dot + 1))) return s;
  }
  return undefined;
}

/**
 * `approve <incident> <step> [--hash h] [--yes]`: an approval names the exact plan it approves. With
 * `--hash`, that hash is sent as is. Without it the plan is read and shown, and it is approved only
 * with `--yes` (otherwise the command prints the plan and how to approve it, and exits 1).
 */
export function approve(incidentId: string, step: string, opts: ApiOptions & { hash?: string; yes?: boolean; json?: boolean }, io: Io): Promise<number> {
  return guarded(io, 'approve', async () => {
    let hash = opts.hash;
    if (!hash) {
      const incident = (await call('GET', `/incidents/${encodeURIComponent(incidentId)}`, opts, io)) as IncidentDetail;
      const s = findStep(incident, step);
      if (!s) throw new Error(`no step ${step} in incident ${incidentId}`);
      if (s.approval !== 'pending' || !s.paramsHash) throw new Error(`step ${step} is not awaiting approval (status ${s.status}${s.approval ? `, approval ${s.approval}` : ''})`);
      io.err(`plan: ${s.plan ?? s.action ?? step}\nhash: ${s.paramsHash}\n`);
      if (!opts.yes) throw new Error(`not approved: read the plan above, then run: responder approve ${incidentId} ${step} --hash ${s.paramsHash}`);
      hash = s.paramsHash;
    }
    const answer = await call('POST', `/incidents/${encodeURIComponent(incidentId)}/steps/${encodeURIComponent(step)}/approve`, opts, io, { paramsHash: hash });
    io.out(opts.json ? `${JSON.stringify(answer)}\n` : `${(answer as { outcome?: string }).outcome ?? 'done'}\n`);
  });
}

export function reject(incidentId: string, step: string, opts: ApiOptions & { reason?: string; json?: boolean }, io: Io): Promise<number> {
  return guarded(io, 'reject', async () => {
    const answer = await call('POST', `/incidents/${encodeURIComponent(incidentId)}/steps/${encodeURIComponent(step)}/reject`, opts, io, opts.reason ? { reason: opts.reason } : {});
    io.out(opts.json ? `${JSON.stringify(answer)}\n` : `${(answer as { outcome?: string }).outcome ?? 'rejected'}\n`);
  });
}

/** `pause` / `resume`: the kill switch for every replica. */
export function automation(which: 'pause' | 'resume', opts: ApiOptions & { reason?: string; by?: string }, io: Io): Promise<number> {
  return guarded(io, which, async () => {
    // A personal token says who; only the shared token needs a name, which the service records as given.
    const by = opts.by ?? (io.env.RESPONDER_TOKEN ? undefined : (io.env.RESPONDER_USER ?? io.env.USER ?? 'cli'));
    const answer = (await call('POST', `/automation/${which}`, opts, io, { ...(by ? { by } : {}), ...(opts.reason ? { reason: opts.reason } : {}) })) as { changed: boolean };
    io.out(`${which === 'pause' ? 'paused' : 'resumed'}${answer.changed ? '' : ' (it already was)'}\n`);
  });
}
