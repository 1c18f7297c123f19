import { Body, Controller, HttpCode, Post, Req, UnsupportedMediaTypeException, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { JSON_TYPES } from '../http/body-parsing';
import { MetricsService } from '../metrics/metrics.service';
import { AlarmIntakeService } from './alarm-intake.service';
import { IngestApiKeyGuard } from './ingest-api-key.guard';

/** Target of an EventBridge API destination (POST, API-key connection). */
@Controller('events')
export class EventBridgeController {
  constructor(
    private readonly intake: AlarmIntakeService,
    private readonly metrics: MetricsService,
  ) {}

  @Post('eventbridge')
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
