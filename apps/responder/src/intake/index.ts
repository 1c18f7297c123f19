// The intake's public surface: what the rest of the service may import from this folder (lint
// enforces it, eslint.config.mjs).
export { IntakeModule } from './intake.module';
export { AlarmIntakeService } from './alarm-intake.service';
export { SqsIntakeService } from './sqs-intake.service';
