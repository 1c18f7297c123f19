import { BadRequestException, Body, Controller, ForbiddenException, Get, Header, NotFoundException, Param, Patch, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { type Verdict, latestVerdict } from '@responder/diagnosis';
import { type RcaModel, buildRca, loadRcaInput, redactDeep, renderRca } from '@responder/rca';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { INCIDENT_STATUSES, type Incident, type TimelineEntry, problemsToText, toProblems } from '@responder/domain';
import { IncidentStore, RunStore, type RunRecord } from '@responder/store';
import { RunEngine } from '../engine/run-engine.service';
import { BearerTokenGuard } from '../http/bearer-token.guard';
import { schemaOf } from '../http/openapi-schema';
import { principalOf } from '../http/principal';
import { type IncidentStats, IncidentStatsService } from './incident-stats.service';
import { NotesService, noteFields } from './notes.service';
import { PostmortemService, postmortemBody } from './postmortem.service';

const listQuery = z
  .object({
    status: z.enum(INCIDENT_STATUSES as [string, ...string[]]).optional(),
    service: z.string().min(1).optional(),
    unrouted: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

const timelineQuery = z
  .object({
    after: z.string().regex(/^\d+-\d+$/, 'expected a timeline entry id such as 1732291480123-0').optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

const noteBody = z.object(noteFields).strict();

const statsQuery = z
  .object({
    since: z
      .string({ message: 'expected since: an ISO 8601 time such as 2024-11-01T00:00:00Z' })
      .refine((v) => /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v)), 'expected an ISO 8601 time such as 2024-11-01T00:00:00Z'),
  })
  .strict();

function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const result = schema.safeParse(query, { reportInput: true });
  if (!result.success) throw new BadRequestException(`bad query: ${problemsToText(toProblems(result.error))}`);
  return result.data;
}

/**
 * Answers go through the RCA's redaction: alarm reasons, step outputs and errors and notes are free
 * text that may carry a token or a password (an error message with a DSN in it), and an API answer
 * ends up in terminals, tickets and chat as easily as the RCA does.
 */
@ApiTags('incidents')
@ApiBearerAuth()
@Controller('incidents')
@UseGuards(BearerTokenGuard)
export class IncidentsController {
  constructor(
    private readonly store: IncidentStore,
    private readonly runs: RunStore,
    private readonly engine: RunEngine,
    private readonly notes: NotesService,
    private readonly postmortems: PostmortemService,
    private readonly stats: IncidentStatsService,
  ) {}

  /**
   * How the incidents opened since a moment were mitigated (policy, approved, people,
   * not_mitigated), the median of each phase of their response, and the failed deployment
   * recovery time of those blamed on a deployment; one item per incident.
   */
  @Get('stats')
  @ApiOperation({ summary: 'Outcomes of the incidents opened since a moment, with the median of each phase (detect, diagnose, acknowledge, mitigate, recover, restore) and the failed deployment recovery time' })
  @ApiQuery({ name: 'since', required: true, description: 'an ISO 8601 time, e.g. 2024-11-01T00:00:00Z: incidents opened at or after it' })
  @ApiResponse({
    status: 200,
    description:
      '`{ since, until, truncated, incidents, outcomes: { policy, approved, people, not_mitigated }, phases: { detect|diagnose|acknowledge|mitigate|recover|restore: { count, medianMs } }, failedDeploymentRecovery: { count, medianMs }, items: [{ incidentId, service, status, openedAt, outcome, cause, phases, failedDeploymentRecoveryMs, recovered }] }`',
  })
  @ApiResponse({ status: 400, description: 'since missing or not an ISO 8601 time' })
  async statsSince(@Query() query: unknown): Promise<IncidentStats> {
    const q = parseQuery(statsQuery, query);
    return redactDeep(await this.stats.since(new Date(q.since)));
  }

  /**
   * The postmortem's owner and/or status (draft, review, published), as the person of the
   * credential (the shared API_TOKEN names nobody: 403). Written to the timeline; the RCA shows
   * them at its top and Slack's thread gets the new version.
   */
  @Patch(':id/postmortem')
  @ApiOperation({ summary: "Set the postmortem's owner and/or status (draft, review, published), as the person of the credential" })
  @ApiBody({ schema: schemaOf(postmortemBody) })
  @ApiResponse({ status: 200, description: '`{ incidentId, status, owner, changed, entry }` (entry: the `postmortem.updated` timeline entry, null when nothing changed)' })
  @ApiResponse({ status: 400, description: 'a bad body, naming the field' })
  @ApiResponse({ status: 403, description: 'the shared API_TOKEN (a person must set it)' })
  @ApiResponse({ status: 404, description: 'no such incident' })
  async setPostmortem(@Req() req: Request, @Param('id') id: string, @Body() body: unknown): Promise<{ incidentId: string; status: string; owner: string | null; changed: boolean; entry: TimelineEntry | null }> {
    const principal = principalOf(req);
    if (principal.kind !== 'person') throw new ForbiddenException('the shared API_TOKEN cannot set a postmortem: use your personal token (responder tokens create <your catalog user>) or an OIDC token');
    const result = postmortemBody.safeParse(body ?? {}, { reportInput: true });
    if (!result.success) throw new BadRequestException(`bad body: ${problemsToText(toProblems(result.error))}`);
    const set = await this.postmortems.set(id, result.data, principal.identity, 'api');
    if (set.outcome === 'missing') throw new NotFoundException(`no incident ${id}`);
    return redactDeep({ incidentId: id, status: set.status, owner: set.owner, changed: set.outcome === 'changed', entry: set.entry });
  }

  /** Newest first. Filters: status, service, unrouted=true; pages with limit and offset. */
  @Get()
  @ApiOperation({ summary: 'Incidents, newest first' })
  @ApiQuery({ name: 'status', required: false, enum: INCIDENT_STATUSES })
  @ApiQuery({ name: 'service', required: false, description: 'a catalog service (not with unrouted=true)' })
  @ApiQuery({ name: 'unrouted', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } })
  @ApiQuery({ name: 'offset', required: false, schema: { type: 'integer', minimum: 0, default: 0 } })
  @ApiResponse({ status: 200, description: '`{ items, total, limit, offset, nextOffset }`' })
  @ApiResponse({ status: 400, description: 'a bad query, naming the field' })
  async list(@Query() query: unknown): Promise<{ items: Incident[]; total: number; limit: number; offset: number; nextOffset: number | null }> {
    const q = parseQuery(listQuery, query);
    if (q.unrouted && q.service) throw new BadRequestException('bad query: service and unrouted=true exclude each other');
    const { items, total } = await this.store.list({
      status: q.status as Incident['status'] | undefined,
      service: q.service,
      unrouted: q.unrouted,
      limit: q.limit,
      offset: q.offset,
    });
    const next = q.offset + items.length;
    return { items: redactDeep(items), total, limit: q.limit, offset: q.offset, nextOffset: next < total ? next : null };
  }

  /** The RCA draft of the incident as markdown (open or resolved), from its timeline and runs. */
  @Get(':id/rca.md')
  @ApiOperation({ summary: 'The RCA of the incident as markdown (open or resolved)' })
  @ApiProduces('text/markdown')
  @ApiResponse({ status: 200, description: 'the document' })
  @ApiResponse({ status: 404, description: 'no such incident' })
  @Header('Content-Type', 'text/markdown; charset=utf-8')
  async rca(@Param('id') id: string): Promise<string> {
    const input = await loadRcaInput(this.store, this.runs, id);
    if (!input) throw new NotFoundException(`no incident ${id}`);
    return renderRca(input);
  }

  /** The same RCA as rca.md, as data for other tools (one model renders both). */
  @Get(':id/rca.json')
  @ApiOperation({ summary: 'The same RCA as data (one model renders both)' })
  @ApiResponse({ status: 200, description: 'the RCA model, with the verdict' })
  @ApiResponse({ status: 404, description: 'no such incident' })
  async rcaJson(@Param('id') id: string): Promise<RcaModel> {
    const input = await loadRcaInput(this.store, this.runs, id);
    if (!input) throw new NotFoundException(`no incident ${id}`);
    return buildRca(input);
  }

  /** A note from a person on the incident's timeline (open or resolved); 201 with the entry. */
  @Post(':id/notes')
  @ApiOperation({ summary: "A person's note on the incident's timeline" })
  @ApiBody({ schema: schemaOf(noteBody) })
  @ApiResponse({ status: 201, description: 'the timeline entry `{ id, at, type: "note", data }`' })
  @ApiResponse({ status: 404, description: 'no such incident' })
  async addNote(@Param('id') id: string, @Body() body: unknown): Promise<TimelineEntry> {
    const result = noteBody.safeParse(body ?? {}, { reportInput: true });
    if (!result.success) throw new BadRequestException(`bad body: ${problemsToText(toProblems(result.error))}`);
    const entry = await this.notes.add(id, { ...result.data, source: 'api' });
    if (!entry) throw new NotFoundException(`no incident ${id}`);
    return redactDeep(entry);
  }

  /**
   * The incident, its mode (`dry-run`: nothing is changed), its alarms, the verdict (the latest
   * `diagnose` output, null before one) and its runs: each step's status, timings, approval and output.
   */
  @Get(':id')
  @ApiOperation({ summary: "The incident, its alarms, its runs (each step's status, plan, approval, output), the verdict and the mode" })
  @ApiResponse({ status: 200, description: 'the incident with `runs`, `verdict` (the latest diagnose output, or null) and `mode` (live or dry-run)' })
  @ApiResponse({ status: 404, description: 'no such incident' })
  async get(@Param('id') id: string): Promise<Incident & { mode: 'live' | 'dry-run'; verdict: Verdict | null; runs: RunView[] }> {
    const incident = await this.store.get(id);
    if (!incident) throw new NotFoundException(`no incident ${id}`);
    const runs = await this.runs.runsOfIncident(id);
    const verdict = latestVerdict(
      runs.flatMap((r) => Object.values(r.steps).map((s) => ({ action: s.action, status: s.status, finishedAt: s.finishedAt, output: () => (s.outputJson ? (JSON.parse(s.outputJson) as unknown) : undefined) }))),
    );
    return redactDeep({ ...incident, mode: this.engine.mode, verdict, runs: runs.map((r) => runView(r, this.engine.runbook(r.runbook)?.steps.map((s) => s.id) ?? [])) });
  }

  /** In order of recording; `after` (an entry id) and `limit` page through a long one. */
  @Get(':id/timeline')
  @ApiOperation({ summary: "The incident's timeline, in order of recording" })
  @ApiQuery({ name: 'after', required: false, description: 'a timeline entry id such as 1732291480123-0' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } })
  @ApiResponse({ status: 200, description: '`{ incidentId, items: [{ id, at, type, data }] }`' })
  @ApiResponse({ status: 404, description: 'no such incident' })
  async timeline(@Param('id') id: string, @Query() query: unknown): Promise<{ incidentId: string; items: TimelineEntry[] }> {
    const q = parseQuery(timelineQuery, query);
    if (!(await this.store.get(id))) throw new NotFoundException(`no incident ${id}`);
    return { incidentId: id, items: redactDeep(await this.store.timeline(id, q)) };
  }
}

export interface RunView {
  id: string;
  runbook: string;
  status: string;
  trigger: string;
  createdAt: string;
  finishedAt: string | null;
  steps: Array<Record<string, unknown> & { id: string; status: string }>;
}

/** A run as the API shows it, its steps in the runbook's order. */
function runView(run: RunRecord, order: string[]): RunView {
  const position = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length);
  return {
    id: run.id,
    runbook: run.runbook,
    status: run.status,
    trigger: run.trigger,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt ?? null,
    steps: Object.entries(run.steps)
      .sort(([a], [b]) => position(a) - position(b))
      .map(([stepId, s]) => {
      const { paramsJson, outputJson, ...rest } = s;
      return {
        id: stepId,
        ...rest,
        status: s.status,
        params: paramsJson ? (JSON.parse(paramsJson) as unknown) : undefined,
        output: outputJson ? (JSON.parse(outputJson) as unknown) : undefined,
        durationMs: s.startedAt && s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : undefined,
      };
    }),
  };
}
