import { BadRequestException, Body, Controller, ForbiddenException, HttpCode, HttpException, HttpStatus, Logger, NotFoundException, Param, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';
import { problemsToText, toProblems } from '@responder/domain';
import { BearerTokenGuard } from '../http/bearer-token.guard';
import { schemaOf } from '../http/openapi-schema';
import { principalOf } from '../http/principal';
import { type ApprovalAnswer, ApprovalService } from './approvals/approval.service';
import { AutomationService } from './automation.service';

const decisionBody = z.object({
  /** Optional and never trusted: the approver is the credential's identity; a different name is refused. */
  approver: z.string().min(1, 'expected the approver (a catalog user name or a Slack user id)').optional(),
  paramsHash: z.string().regex(/^[0-9a-f]{16}$/, 'expected the 16-hex-digit hash of the parameters shown for approval').optional(),
  reason: z.string().max(1000).optional(),
});
const pauseBody = z.object({ by: z.string().min(1, 'expected who pauses or resumes').optional(), reason: z.string().max(1000).optional() });

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {}, { reportInput: true });
  if (!result.success) throw new BadRequestException(`bad body: ${problemsToText(toProblems(result.error))}`);
  return result.data;
}

/** Approvals and the kill switch over HTTP (bearer token); Slack buttons call the same services. */
@ApiTags('approvals and the kill switch')
@ApiBearerAuth()
@Controller()
@UseGuards(BearerTokenGuard)
export class EngineController {
  private readonly logger = new Logger('Approvals');

  constructor(
    private readonly approvals: ApprovalService,
    private readonly automation: AutomationService,
  ) {}

  @Post('incidents/:id/steps/:step/approve')
  @ApiOperation({ summary: 'Approve a step awaiting approval, as the person of the credential (never the shared API_TOKEN)' })
  @ApiParam({ name: 'step', description: 'the step id, or <runbook>.<step> when several runs have it' })
  @ApiBody({ schema: schemaOf(decisionBody) })
  @ApiResponse({ status: 200, description: '`{ outcome: "granted" | "recorded" }` (recorded: a two-person step needs another person)' })
  @ApiResponse({ status: 403, description: 'the shared API_TOKEN, or not one of the step’s approvers' })
  @ApiResponse({ status: 409, description: '`{ code: "stale" | "duplicate" | "not_pending", … }`' })
  @HttpCode(200)
  async approve(@Req() req: Request, @Param('id') id: string, @Param('step') step: string, @Body() body: unknown): Promise<ApprovalAnswer> {
    const decision = parse(decisionBody, body);
    return answer(await this.approvals.approve(id, step, { ...decision, ...this.approver(req, decision.approver, 'approve') }));
  }

  @Post('incidents/:id/steps/:step/reject')
  @ApiOperation({ summary: 'Reject a step awaiting approval, as the person of the credential' })
  @ApiParam({ name: 'step', description: 'the step id, or <runbook>.<step> when several runs have it' })
  @ApiBody({ schema: schemaOf(decisionBody) })
  @ApiResponse({ status: 200, description: '`{ outcome: "rejected" }`' })
  @ApiResponse({ status: 403, description: 'the shared API_TOKEN, or not one of the step’s approvers' })
  @HttpCode(200)
  async reject(@Req() req: Request, @Param('id') id: string, @Param('step') step: string, @Body() body: unknown): Promise<ApprovalAnswer> {
    const decision = parse(decisionBody, body);
    return answer(await this.approvals.reject(id, step, { ...decision, ...this.approver(req, decision.approver, 'reject') }));
  }

  /** The kill switch: no mutating step starts, on any replica, until resumed. Diagnostics go on. */
  @Post('automation/pause')
  @ApiOperation({ summary: 'The kill switch: no mutating step starts, on any replica, until resumed (diagnostics go on)' })
  @ApiBody({ schema: schemaOf(pauseBody) })
  @ApiResponse({ status: 200, description: '`{ paused: true, changed }`' })
  @HttpCode(200)
  async pause(@Req() req: Request, @Body() body: unknown): Promise<{ paused: true; changed: boolean }> {
    const { by, reason } = parse(pauseBody, body);
    return { paused: true, changed: await this.automation.pause(this.actor(req, by), reason) };
  }

  @Post('automation/resume')
  @ApiOperation({ summary: 'Let mutating steps start again' })
  @ApiBody({ schema: schemaOf(pauseBody) })
  @ApiResponse({ status: 200, description: '`{ paused: false, changed }`' })
  @HttpCode(200)
  async resume(@Req() req: Request, @Body() body: unknown): Promise<{ paused: false; changed: boolean }> {
    const { by, reason } = parse(pauseBody, body);
    return { paused: false, changed: await this.automation.resume(this.actor(req, by), reason) };
  }

  /**
   * The approver is whoever the credential names. The shared API_TOKEN names nobody, so it cannot
   * decide (else one secret could approve as anyone, and satisfy two-person alone). A body's
   * `approver` that differs from the credential's identity is refused rather than silently ignored.
   * The channel (personal token or OIDC) goes with it: the approval records how the person decided.
   */
  private approver(req: Request, claimed: string | undefined, verb: 'approve' | 'reject'): { approver: string; via: 'token' | 'oidc' } {
    const principal = principalOf(req);
    if (principal.kind !== 'person') {
      this.logger.warn({ path: req.path, claimed: claimed ?? null }, `refused to ${verb} with the shared API_TOKEN`);
      throw new ForbiddenException(`the shared API_TOKEN cannot ${verb}: use your personal token (responder tokens create <your catalog user>) or an OIDC token from your identity provider`);
    }
    if (claimed !== undefined && claimed !== principal.identity) {
      throw new BadRequestException(`bad body: approver "${claimed}" is not the identity of this credential (${principal.identity}); the approver comes from the credential, so leave the field out`);
    }
    return { approver: principal.identity, via: principal.via };
  }

  /** Who pauses or resumes: a person's credential names them; the shared token must say in `by`. */
  private actor(req: Request, by: string | undefined): string {
    const principal = principalOf(req);
    if (principal.kind === 'person') {
      if (by !== undefined && by !== principal.identity) throw new BadRequestException(`bad body: by "${by}" is not the identity of this credential (${principal.identity}); leave the field out`);
      return principal.identity;
    }
    if (by === undefined) throw new BadRequestException('bad body: by: is required with the shared API_TOKEN (who pauses or resumes)');
    return by;
  }
}

function answer(result: ApprovalAnswer): ApprovalAnswer {
  if (result.ok) return result;
  switch (result.code) {
    case 'not_found':
      throw new NotFoundException(result.message);
    case 'forbidden':
      throw new ForbiddenException(result.message);
    case 'ambiguous':
      throw new BadRequestException(result.message);
    default:
      throw new HttpException({ statusCode: 409, error: 'Conflict', ...result }, HttpStatus.CONFLICT);
  }
}
