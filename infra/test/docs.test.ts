import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CONTEXT_KEYS, buildStacks } from '../lib/app';

/** docs/deploy.md and this README stay true to the app: every knob named, valid markdown. */

const ROOT = resolve(__dirname, '..', '..');
const DOCS = ['docs/deploy.md', 'infra/README.md'];

describe('deployment docs', () => {
  const app = new App({ context: { region: 'us-east-1' } });
  const stacks = buildStacks(app);
  const parameters = [stacks.sqs, stacks.apiDestination].flatMap((s) => Object.keys(Template.fromStack(s).toJSON().Parameters as object)).filter((p) => p !== 'BootstrapVersion');

  for (const doc of DOCS) {
    const text = readFileSync(join(ROOT, doc), 'utf8');
    it(`${doc} names every context key, stack and deploy parameter`, () => {
      for (const key of CONTEXT_KEYS) assert.match(text, new RegExp(`\\b${key}\\b`), `${doc} mentions -c ${key}`);
      for (const p of new Set(parameters)) assert.ok(text.includes(p), `${doc} mentions the parameter ${p}`);
      for (const stack of ['Responder', 'ResponderApiDestination']) assert.ok(text.includes(`\`${stack}\``) || text.includes(` ${stack} `), `${doc} names ${stack}`);
    });
  }

  it('passes markdownlint (the repository root config)', () => {
    const lint = spawnSync(join(ROOT, 'node_modules/.bin/markdownlint-cli2'), DOCS, { cwd: ROOT, encoding: 'utf8' });
    assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
  });
});
