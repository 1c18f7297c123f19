import { Module } from '@nestjs/common';
import { AlarmIntakeService } from './alarm-intake.service';
import { EventBridgeController } from './eventbridge.controller';
import { IngestApiKeyGuard } from './ingest-api-key.guard';
import { SqsIntakeService } from './sqs-intake.service';

@Module({
  controllers: [EventBridgeController],
  providers: [AlarmIntakeService, IngestApiKeyGuard, SqsIntakeService],
  exports: [AlarmIntakeService, SqsIntakeService],
})
export class IntakeModule {}
