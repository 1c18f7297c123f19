import { BadRequestException, Body, Controller, HttpException, HttpStatus, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { problemsToText, toProblems } from '@responder/domain';
import { BearerTokenGuard } from '../http/bearer-token.guard';
import { schemaOf } from '../http/openapi-schema';
import { ManualRunService } from './manual-run.service';

const runBody = z
  .object({
    service: z.string().min(1, 'expected a service of the catalog'),
    by: z.string().trim().min(1, 'expected who starts the run').max(200, 'expected at most 200 characters'),
    inputs: z.record(z.string(), z.unknown(), 'expected an object of runbook inputs').optional(),
  })
  .strict();

@ApiTags('runbooks')
@ApiBearerAuth()
@Controller('runbooks')
@UseGuards(BearerTokenGuard)
export class RunbooksController {
  constructor(private readonly manualRuns: ManualRunService) {}

  /** A manual run of a runbook for a service: 201 `{ incidentId, runId }`. */
  @Post(':name/run')
  @ApiOperation({ summary: "A manual run of a runbook for a catalog service, on the service's open incident or a new one" })
  @ApiBody({ schema: schemaOf(runBody) })
  @ApiResponse({ status: 201, description: '`{ incidentId, runId, incidentOpened }`' })
  @ApiResponse({ status: 404, description: 'an unknown runbook or service' })
  @ApiResponse({ status: 409, description: '`{ code: "already_running", incidentId, runId }`' })
  async run(@Param('name') name: string, @Body() body: unknown): Promise<{ incidentId: string; runId: string; incidentOpened: boolean }> {
    const parsed = runBody.safeParse(body ?? {}, { reportInput: true });
    if (!parsed.success) throw new BadRequestException(`bad body: ${problemsToText(toProblems(parsed.error))}`);
    const result = await this.manualRuns.start({ runbook: name, ...parsed.data });
    if (result.ok) return { incidentId: result.incidentId, runId: result.runId, incidentOpened: result.incidentOpened };
    switch (result.code) {
      case 'unknown_runbook':
      case 'unknown_service':
        throw new NotFoundException(result.message);
      case 'bad_inputs':
        throw new BadRequestException(`bad inputs: ${result.message}`);
      default:
        throw new HttpException({ statusCode: 409, error: 'Conflict', ...result }, HttpStatus.CONFLICT);
    }
  }
}
