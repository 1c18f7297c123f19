// The incidents folder's public surface: what the rest of the service may import from it (lint
// enforces it, eslint.config.mjs).
export { IncidentsModule } from './incidents.module';
export { OutcomeRecorder } from './outcome-recorder';
