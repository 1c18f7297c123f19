import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/net';

const ROOT = join(__dirname, '..', '..');
const MAIN = 'dist/apps/responder/apps/responder/src/main.js';

/** Starts the real entry point with an environment; bad configuration must stop it before it listens. */
function boot(env: Record<string, string>): { status: number | null; stderr: string } {
  // the built entry (npm test builds it), as it runs in the image; a busy machine may be slow to start it
  const out = spawnSync(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: out.status, stderr: out.stderr.replace(/^.*NodeDeprecationWarning.*\n?|^\(node:\d+\).*\n?|^\(Use `node --trace.*\n?/gm, '') };
}

describe('boot', () => {
  jest.setTimeout(90_000);

  it('stops with one line naming a malformed variable', () => {
    const { status, stderr } = boot({ PORT: 'eighty' });
    expect(status).toBe(1);
    expect(stderr.trim().split('\n')).toEqual(['responder: invalid configuration: PORT must be a number']);
  });

  it('never prints the value of a bad secret', () => {
    const { status, stderr } = boot({ INGEST_API_KEY: 'tooshort-secret' });
    expect(status).toBe(1);
    expect(stderr).toContain('INGEST_API_KEY must be at least 16 characters');
    expect(stderr).not.toContain('tooshort-secret');
  });

  it('refuses an invalid service catalog, saying where', () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    const file = join(dir, 'catalog.yaml');
    writeFileSync(file, 'services:\n  checkout:\n    alarms: { names: [x] }\n    ecs: { cluster: prod }\n');
    const { status, stderr } = boot({ SERVICE_CATALOG: file });
    expect(status).toBe(1);
    expect(stderr).toContain('responder: invalid service catalog:');
    expect(stderr).toContain(`${file}:4:10: services.checkout.ecs.service: is required`);
  });

  it('refuses a catalog where one Slack user id belongs to two people, naming both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    const file = join(dir, 'catalog.yaml');
    writeFileSync(file, 'people:\n  alice: { slack: U0ALICE01 }\n  bob: { slack: U0ALICE01 }\n');
    const { status, stderr } = boot({ SERVICE_CATALOG: file });
    expect(status).toBe(1);
    expect(stderr).toContain(`${file}:3:17: people.bob.slack: Slack user id "U0ALICE01" already belongs to person "alice" (their Slack user id): one name, one person`);
  });

  it('refuses a configured catalog that does not exist', () => {
    const { status, stderr } = boot({ SERVICE_CATALOG: '/nonexistent/catalog.yaml' });
    expect(status).toBe(1);
    expect(stderr.trim()).toBe('responder: SERVICE_CATALOG: no file at /nonexistent/catalog.yaml');
  });
});

/**
 * Starts the built service (npm test builds it; tsx would not emit the decorator metadata Nest's
 * injection needs) until it listens; resolves to what it logged up to then.
 */
async function bootUntilListening(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: `test:boot:${port}`, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening on')) resolve(out);
      });
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.once('exit', (code) => reject(new Error(`exited ${code} before listening:\n${out}`)));
    });
  } finally {
    child.kill('SIGKILL');
  }
}

describe('boot with the shipped example catalog', () => {
  const logLine = (out: string, text: string) => out.split('\n').find((l) => l.includes(text)) ?? '';

  it('warns loudly and runs in dry-run unless RESPONDER_MODE is set', async () => {
    const out = await bootUntilListening({});
    expect(logLine(out, 'EXAMPLE catalog')).toContain('Running in dry-run (the default with the example catalog)');
    expect(logLine(out, 'listening on')).toContain('(dry-run)');
  }, 60_000);

  it('keeps an explicit RESPONDER_MODE=live, still warning', async () => {
    const out = await bootUntilListening({ RESPONDER_MODE: 'live' });
    expect(logLine(out, 'EXAMPLE catalog')).toContain('Running in live (RESPONDER_MODE)');
    expect(logLine(out, 'listening on')).toContain('(live)');
  }, 60_000);

  it('says nothing of the kind for a catalog of your own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    const file = join(dir, 'catalog.yaml');
    writeFileSync(file, 'services:\n  checkout:\n    alarms: { names: [checkout-5xx] }\n    ecs: { cluster: prod, service: checkout }\n');
    const out = await bootUntilListening({ SERVICE_CATALOG: file });
    expect(out).not.toContain('EXAMPLE catalog');
    expect(logLine(out, 'listening on')).toContain('(live)');
  }, 60_000);
});
