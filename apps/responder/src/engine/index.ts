// The engine's public surface: what the rest of the service may import from this folder (lint
// enforces it, eslint.config.mjs). Everything else here is the engine's own.
export { EngineModule } from './engine.module';
export { RunEngine } from './run-engine.service';
export { type ApprovalAnswer, ApprovalService, CHANNEL_TEXT } from './approvals/approval.service';
export { AutomationService } from './automation.service';
export { APPROVER_DIRECTORY, type ApproverDirectory } from './approvals/approver-directory';
