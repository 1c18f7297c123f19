import type { ChildProcess } from 'node:child_process';

export default function globalTeardown(): void {
  (globalThis as { __MOTO__?: ChildProcess }).__MOTO__?.kill();
}
