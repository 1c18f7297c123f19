import { Global, Module } from '@nestjs/common';
import { IncidentsController } from './incidents.controller';
import { IncidentStatsService } from './incident-stats.service';
import { NotesService } from './notes.service';
import { OutcomeRecorder } from './outcome-recorder';
import { PostmortemService } from './postmortem.service';
import { RetentionSweeper } from './retention.sweeper';

/** The incidents API, notes from humans, and the retention sweep. Global: Slack's `/incident note` and `/incident postmortem` use NotesService and PostmortemService. */
@Global()
@Module({
  controllers: [IncidentsController],
  providers: [NotesService, PostmortemService, IncidentStatsService, OutcomeRecorder, RetentionSweeper],
  exports: [NotesService, PostmortemService, IncidentStatsService, OutcomeRecorder, RetentionSweeper],
})
export class IncidentsModule {}
