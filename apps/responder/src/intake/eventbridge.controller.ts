import { Body, Controller, HttpCode, Post, Req, UnsupportedMediaTypeException, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { JSON_TYPES } from '../http/body-parsing';
import { INGEST_API_KEY_SCHEME } from '../http/openapi';
import { MetricsService } from '../metrics/metrics.service';
import { AlarmIntakeService } from './alarm-intake.service';
import { IngestApiKeyGuard } from './ingest-api-key.guard';

/** Target of an EventBridge API destination (POST, API-key connection). */
@ApiTags('intake')
@ApiSecurity(INGEST_API_KEY_SCHEME)
@Controller('events')
export class EventBridgeController {
  constructor(
    private readonly intake: AlarmIntakeService,
    private readonly metrics: MetricsService,
  ) {}

  @Post('eventbridge')
  @ApiOperation({
    summary: 'One EventBridge event (what an API destination sends): a CloudWatch alarm state change',
    description: 'Safe to receive twice (the event id is the dedupe key). Answers within EventBridge’s 5 s.',
  })
  @ApiResponse({ status: 202, description: '`{ incidentId, deduplicated, outcome }`: outcome opened, attached, updated, resolved, stale, unattached, duplicate, or ignored (another detail-type)' })
  @ApiResponse({ status: 400, description: 'a malformed event: `message` and `problems[]` name each field' })
  @ApiResponse({ status: 401, description: 'no or wrong x-api-key' })
  @ApiResponse({ status: 413, description: 'over 256 KB' })
  @ApiResponse({ status: 415, description: 'not application/json' })
  @ApiResponse({ status: 503, description: 'Redis is down or does not answer in time; Retry-After says when to retry' })
  @HttpCode(202)
  @UseGuards(IngestApiKeyGuard)
  async receive(@Req() req: Request, @Body() body: unknown): Promise<{ incidentId: string | null; deduplicated: boolean; outcome: string }> {
    // Checked after the key, so that an unauthenticated caller learns nothing but 401.
    if (!req.is(JSON_TYPES)) {
      this.metrics.eventsRejected.inc({ source: 'http', reason: 'unsupported_media_type' });
      const got = req.headers['content-type'];
      throw new UnsupportedMediaTypeException(`expected Content-Type: application/json, got ${got ? JSON.stringify(got.slice(0, 100)) : 'none'}`);
    }
    const { incidentId, deduplicated, outcome } = await this.intake.receive(body, 'http');
    return { incidentId, deduplicated, outcome };
  }
}
