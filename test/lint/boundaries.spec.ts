import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The dependency rules of eslint.config.mjs (docs/architecture.md, "The parts"), each proved on a
 * wrong import (an error) and a right one (none). The texts are linted as if they were files at
 * these paths (which need not exist), with the repository's own configuration.
 */

const ROOT = join(__dirname, '..', '..');

interface Problem {
  ruleId: string | null;
  severity: number;
  message: string;
}

type Case = [file: string, code: string];

const WRONG: Case[] = [
  // libs/domain imports no other library, and no SDK, Nest or Redis.
  ['libs/domain/src/probe.ts', "import { IncidentStore } from '@responder/store';"],
  ['libs/domain/src/probe.ts', "import { diagnose } from '@responder/diagnosis';"],
  ['libs/domain/src/probe.ts', "import Redis from 'ioredis';"],
  // libs/rca, libs/slack, libs/diagnosis import only libs/domain; libs/runbooks libs/domain and libs/diagnosis.
  ['libs/rca/src/probe.ts', "import type { RunStore } from '@responder/store';"],
  ['libs/rca/src/probe.ts', "import { diagnose } from '@responder/diagnosis';"],
  ['libs/slack/src/probe.ts', "import type { RunStatus } from '@responder/store';"],
  ['libs/slack/src/messages/probe.ts', "import { renderRca } from '@responder/rca';"],
  ['libs/slack/src/messages/probe.ts', "import { diagnose } from '@responder/diagnosis';"],
  ['libs/slack/src/messages/probe.ts', "import type { MetricsOutput } from '@responder/aws/actions';"],
  ['libs/slack/src/probe.ts', "export * from '@responder/store';"],
  ['libs/slack/src/probe.ts', "import { Injectable } from '@nestjs/common';"],
  ['libs/diagnosis/src/probe.ts', "import { parseRunbook } from '@responder/runbooks';"],
  ['libs/runbooks/src/probe.ts', "import { awsActions } from '@responder/aws/actions';"],
  ['libs/runbooks/src/probe.spec.ts', "import { awsActions } from '@responder/aws/actions';"],
  ['libs/store/src/probe.ts', "import { parseRunbook } from '@responder/runbooks';"],
  ['libs/aws/src/probe.ts', "import { IncidentStore } from '@responder/store';"],
  // No library imports another by its files, an app, or (but in its specs) test/.
  ['libs/slack/src/probe.ts', "import { RunStore } from '../../store/src/run.store';"],
  ['libs/store/src/probe.ts', "import { REDIS } from '../../../apps/responder/src/tokens';"],
  ['libs/slack/src/messages/probe.ts', "import { makeView } from '../../../../test/fixtures/slack/views';"],
  // Features meet through the change feed, an application service or an index, not each other's files.
  ['apps/responder/src/intake/probe.ts', "import { RunEngine } from '../engine/run-engine.service';"],
  ['apps/responder/src/slack/probe.ts', "import { NotesService } from '../incidents/notes.service';"],
  ['apps/responder/src/slack/probe.ts', "import { ManualRunService } from '../runbooks/manual-run.service';"],
  ['apps/responder/src/incidents/probe.ts', "import { SlackSync } from '../slack/slack-sync.service';"],
  ['apps/responder/src/http/probe.ts', "import { ApprovalService } from '../engine/approval.service';"],
  ['apps/responder/src/probe.ts', "import { EngineModule } from './engine/engine.module';"],
  ['apps/responder/src/engine/gates/probe.ts', "import { IntakeModule } from '../../intake/intake.module';"],
  // An app never imports another, nor a library by its files.
  ['apps/cli/src/commands/probe.ts', "import { loadRcaInput } from '../../../responder/src/rca/load-rca-input';"],
  ['apps/responder/src/slack/probe.ts', "import { SlackWeb } from '../../../../libs/slack/src/slack-web.adapter';"],
];

const RIGHT: Case[] = [
  ['libs/domain/src/probe.ts', "import { parseAlarmEvent } from './alarm-event';"],
  ['libs/rca/src/probe.ts', "import { type RunRecord, redactDeep } from '@responder/domain';"],
  ['libs/slack/src/probe.ts', "import type { RunStatus, Verdict } from '@responder/domain';\nimport type { KnownBlock } from '@slack/types';"],
  ['libs/slack/src/messages/probe.spec.ts', "import { makeView } from '../../../../test/fixtures/slack/views';"],
  ['libs/diagnosis/src/probe.ts', "import type { Verdict } from '@responder/domain';"],
  ['libs/runbooks/src/probe.ts', "import { diagnose } from '@responder/diagnosis';\nimport { compileExpression } from '@responder/domain';"],
  ['libs/store/src/probe.ts', "import type { RunRecord } from '@responder/domain';\nimport type { Redis } from 'ioredis';"],
  ['libs/aws/src/probe.ts', "import { ECSClient } from '@aws-sdk/client-ecs';\nimport type { Action } from '@responder/domain';"],
  ['apps/responder/src/slack/probe.ts', "import { ApprovalService, RunEngine } from '../engine';\nimport { loadRcaInput } from '../rca/load-rca-input';\nimport { IncidentStore } from '@responder/store';"],
  ['apps/responder/src/health/probe.ts', "import { SqsIntakeService } from '../intake';"],
  ['apps/responder/src/engine/probe.ts', "import { RunEngine } from './run-engine.service';\nimport type { AppConfig } from '../config/config';"],
  ['apps/responder/src/probe.ts', "import { EngineModule } from './engine';\nimport { SlackModule } from './slack/slack.module';"],
  ['apps/cli/src/commands/probe.ts', "import { buildRca, rcaInput } from '@responder/rca';"],
  ['test/e2e/probe.spec.ts', "import { RunEngine } from '../../apps/responder/src/engine/run-engine.service';\nimport { awsActions } from '@responder/aws/actions';"],
];

let results: Problem[][];

beforeAll(() => {
  const cases = [...WRONG, ...RIGHT].map(([filePath, code]) => ({ filePath, code: `${code}\n` }));
  const run = spawnSync(process.execPath, [join(ROOT, 'test/support/lint-check.mjs')], { cwd: ROOT, input: JSON.stringify(cases), encoding: 'utf8' });
  expect(run.stderr).toBe('');
  results = JSON.parse(run.stdout) as Problem[][];
}, 180_000);

const imports = (problems: Problem[]) => problems.filter((p) => p.ruleId === 'no-restricted-imports');

describe('import boundaries (eslint.config.mjs)', () => {
  it.each(WRONG.map(([file, code], i) => [file, code.replace(/\n/g, ' '), i] as const))('%s: `%s` is an error', (_file, _code, i) => {
    const found = imports(results[i]);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((p) => p.severity === 2)).toBe(true);
  });

  it.each(RIGHT.map(([file, code], i) => [file, code.replace(/\n/g, ' '), WRONG.length + i] as const))('%s: `%s` is allowed', (_file, _code, i) => {
    expect(imports(results[i])).toEqual([]);
  });

  it('says what the library may import', () => {
    expect(imports(results[WRONG.findIndex(([file, code]) => file.startsWith('libs/slack/') && code.includes('@responder/rca'))])[0].message).toContain('libs/slack may import libs/domain');
  });
});
