import { BadRequestException, Body, Controller, ForbiddenException, HttpCode, HttpException, HttpStatus, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { problemsToText, toProblems } from '@responder/domain';
import { BearerTokenGuard } from '../http/bearer-token.guard';
import { type ApprovalAnswer, ApprovalService } from './approval.service';
import { AutomationService } from './automation.service';

const decisionBody = z.object({
  approver: z.string().min(1, 'expected the approver (a catalog user name or a Slack user id)'),
  paramsHash: z.string().regex(/^[0-9a-f]{16}$/, 'expected the 16-hex-digit hash of the parameters shown for approval').optional(),
  reason: z.string().max(1000).optional(),
});
const pauseBody = z.object({ by: z.string().min(1, 'expected who pauses or resumes'), reason: z.string().max(1000).optional() });

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {}, { reportInput: true });
  if (!result.success) throw new BadRequestException(`bad body: ${problemsToText(toProblems(result.error))}`);
  return result.data;
}

/** Approvals and the kill switch over HTTP (bearer token); Slack buttons call the same services. */
@Controller()
@UseGuards(BearerTokenGuard)
export class EngineController {
  constructor(
    private readonly approvals: ApprovalService,
    private readonly automation: AutomationService,
  ) {}

  @Post('incidents/:id/steps/:step/approve')
  @HttpCode(200)
  async approve(@Param('id') id: string, @Param('step') step: string, @Body() body: unknown): Promise<ApprovalAnswer> {
    return answer(await this.approvals.approve(id, step, parse(decisionBody, body)));
  }

  @Post('incidents/:id/steps/:step/reject')
  @HttpCode(200)
  async reject(@Param('id') id: string, @Param('step') step: string, @Body() body: unknown): Promise<ApprovalAnswer> {
    return answer(await this.approvals.reject(id, step, parse(decisionBody, body)));
  }

  /** The kill switch: no mutating step starts, on any replica, until resumed. Diagnostics go on. */
  @Post('automation/pause')
  @HttpCode(200)
  async pause(@Body() body: unknown): Promise<{ paused: true; changed: boolean }> {
    const { by, reason } = parse(pauseBody, body);
    return { paused: true, changed: await this.automation.pause(by, reason) };
  }

  @Post('automation/resume')
  @HttpCode(200)
  async resume(@Body() body: unknown): Promise<{ paused: false; changed: boolean }> {
    const { by, reason } = parse(pauseBody, body);
    return { paused: false, changed: await this.automation.resume(by, reason) };
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
