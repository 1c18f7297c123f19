import { Global, Module } from '@nestjs/common';
import { IncidentsController } from './incidents.controller';
import { NotesService } from './notes.service';
import { RetentionSweeper } from './retention.sweeper';

/** The incidents API, notes from humans, and the retention sweep. Global: Slack's `/incident note` uses NotesService (bound in app.module.ts). */
@Global()
@Module({
  controllers: [IncidentsController],
  providers: [NotesService, RetentionSweeper],
  exports: [NotesService, RetentionSweeper],
})
export class IncidentsModule {}
