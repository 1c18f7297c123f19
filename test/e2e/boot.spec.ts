import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/** Starts the real entry point with an environment; bad configuration must stop it before it listens. */
function boot(env: Record<string, string>): { status: number | null; stderr: string } {
  const out = spawnSync(TSX, ['apps/responder/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: out.status, stderr: out.stderr.replace(/^.*NodeDeprecationWarning.*\n?|^\(node:\d+\).*\n?|^\(Use `node --trace.*\n?/gm, '') };
}

describe('boot', () => {
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

  it('refuses a configured catalog that does not exist', () => {
    const { status, stderr } = boot({ SERVICE_CATALOG: '/nonexistent/catalog.yaml' });
    expect(status).toBe(1);
    expect(stderr.trim()).toBe('responder: SERVICE_CATALOG: no file at /nonexistent/catalog.yaml');
  });
});
