import type { ActionDescriptor } from '@responder/domain';
import { knownActions } from '@responder/runbooks';

/**
 * Actions the runbook fixtures and engine tests name. Descriptors only for now: the engine's
 * tests add runnable implementations here (counting their calls).
 */
export const TEST_ACTION_DESCRIPTORS: readonly ActionDescriptor[] = [
  { id: 'test.diagnose', mutating: false, description: 'A read-only diagnostic that returns what it is given.' },
  { id: 'test.mutate', mutating: true, description: 'A mutating action (counts its calls in the engine tests).' },
];

/** The built-in actions plus the test ones, as parseRunbook / loadRunbooks take them. */
export const testActionDescriptors: ReadonlyMap<string, ActionDescriptor> = knownActions(TEST_ACTION_DESCRIPTORS);

/**
 * Runnable test actions. They keep their counts in Redis (under `${prefix}:test:`), so that a
 * test can read them whether the engine runs in the test process or in a child it kills.
 *
 * - test.diagnose (read-only), with: { value?, sleep_ms?, fail?: 'always' }: returns the value,
 *   its start and end times;
 * - test.mutate (mutating), with: { target, value?, read_ms?, sleep_ms?, fail_before_call_once?,
 *   fail_after_call_once? }: first "reads" for `read_ms` (counted under `reads:<target>`; with
 *   `fail_before_call_once` the first read throws, nothing called), then announces its call
 *   (ctx.calling) and counts its calls per step and the most calls in flight at once per target;
 *   `fail_after_call_once` throws after the first call has counted (a connection dropped after the
 *   change was made), so the retry must reconcile instead of calling again.
 */
export function createTestActions(redis: import('ioredis').default, prefix: string): import('@responder/domain').Action[] {
  const key = (...parts: string[]) => `${prefix}:test:${parts.join(':')}`;
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(new Error('aborted'));
      });
    });
  const num = (v: unknown, d = 0) => (typeof v === 'number' ? v : d);
  return [
    {
      id: 'test.diagnose',
      mutating: false,
      description: 'A read-only diagnostic that returns what it is given.',
      plan: () => ({ summary: 'diagnose' }),
      async run(params, ctx) {
        const startedAt = Date.now();
        await redis.incr(key('calls', ctx.runId, ctx.stepId));
        if (params.fail === 'always') throw new Error('diagnostic failed');
        ctx.signal.addEventListener('abort', () => void redis.incr(key('aborted', ctx.runId, ctx.stepId)));
        await sleep(num(params.sleep_ms), ctx.signal);
        return { output: { value: params.value ?? null, startedAt, finishedAt: Date.now() }, summary: `diagnosed ${JSON.stringify(params.value ?? null)}` };
      },
    },
    {
      id: 'test.mutate',
      mutating: true,
      description: 'A mutating action that counts its calls.',
      announcesCall: true,
      plan: (params) => ({ summary: `set ${String(params.target)} to ${JSON.stringify(params.value ?? null)}`, resource: `test:${String(params.target)}` }),
      async run(params, ctx) {
        const target = String(params.target);
        const reads = await redis.incr(key('reads', target));
        await sleep(num(params.read_ms), ctx.signal);
        if (params.fail_before_call_once === true && reads === 1) throw new Error('throttled while reading, before the call');
        await ctx.calling?.();
        const calls = await redis.incr(key('calls', ctx.runId, ctx.stepId));
        await redis.incr(key('calls-total', target));
        const active = await redis.incr(key('active', target));
        await redis.eval("if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end", 1, key('max-active', target), active);
        try {
          await sleep(num(params.sleep_ms), ctx.signal);
        } finally {
          await redis.decr(key('active', target));
        }
        if (params.fail_after_call_once === true && calls === 1) throw new Error('connection reset after the request was sent');
        return { output: { target, value: params.value ?? null, calledAt: Date.now() }, summary: `set ${target}` };
      },
      async reconcile(params, ctx) {
        await redis.incr(key('reconciles', ctx.runId, ctx.stepId));
        return { output: { target: String(params.target), value: params.value ?? null, reconciled: true }, summary: 'found the change already made' };
      },
    },
  ];
}

/** Counts kept by the test actions. */
export async function testCount(redis: import('ioredis').default, prefix: string, ...parts: string[]): Promise<number> {
  return Number((await redis.get(`${prefix}:test:${parts.join(':')}`)) ?? 0);
}

/**
 * A goal checker for the engine tests (the AWS one needs AWS): every check of a step is met once
 * the key `${prefix}:test:goal-met:<target>` exists (the step's `with.target`), and each round is
 * counted under `goal-checks:<target>`. The check ids are the domain's; their meaning here is the key.
 */
export function createTestGoalChecker(redis: import('ioredis').default, prefix: string): import('@responder/domain').GoalChecker {
  const key = (...parts: string[]) => `${prefix}:test:${parts.join(':')}`;
  return {
    async check(checks, input) {
      const target = String(input.params.target);
      await redis.incr(key('goal-checks', target));
      const met = (await redis.exists(key('goal-met', target))) === 1;
      return checks.map((check) => ({ check, met, detail: met ? `${target} reached its goal` : `${target} has not reached its goal` }));
    },
  };
}
