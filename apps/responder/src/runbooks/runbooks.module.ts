import { Global, Module } from '@nestjs/common';
import { ManualRunService } from './manual-run.service';
import { RunbooksController } from './runbooks.controller';

/** Manual runs. Global: Slack's `/incident run` uses ManualRunService (bound in app.module.ts). */
@Global()
@Module({
  controllers: [RunbooksController],
  providers: [ManualRunService],
  exports: [ManualRunService],
})
export class RunbooksModule {}
