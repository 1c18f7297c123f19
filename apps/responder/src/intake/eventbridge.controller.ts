import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { AlarmIntakeService } from './alarm-intake.service';
import { IngestApiKeyGuard } from './ingest-api-key.guard';

/** Target of an EventBridge API destination (POST, API-key connection). */
@Controller('events')
export class EventBridgeController {
  constructor(private readonly intake: AlarmIntakeService) {}

  @Post('eventbridge')
  @HttpCode(202)
  @UseGuards(IngestApiKeyGuard)
  async receive(@Body() body: unknown): Promise<{ incidentId: string | null; deduplicated: boolean; outcome: string }> {
    const { incidentId, deduplicated, outcome } = await this.intake.receive(body, 'http');
    return { incidentId, deduplicated, outcome };
  }
}
