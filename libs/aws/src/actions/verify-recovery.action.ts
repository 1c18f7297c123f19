import { type Action, type ActionContext, type ActionOutcome, PermanentActionError } from '@responder/domain';
import type { AlarmState, CloudWatchAdapter } from '../cloudwatch.adapter';
import { type Elbv2Adapter, nameOfTargetGroupArn } from '../elbv2.adapter';
import { targetHealthReport } from './alb-target-health.action';

/**
 * `verify.recovery` (read only): after the mitigations, are the incident's alarms OK again and is no
 * target unhealthy? Polls until they are or until `wait_seconds` pass. Between two checks it holds no
 * worker: it answers "again after poll_seconds" (ActionAgain) with its checkpoint (when it began,
 * its deadline, the checks made), and the next run of its job makes the next check.
 *
 * `with: { alarms, target_groups?, wait_seconds? (0-1800, default 0: one check), poll_seconds? (default 15) }`.
 * `alarms` is a list of alarm names, or of objects with a `name` (the runbook context's `alarms`).
 *
 * Recovered = every alarm is `OK` and, with target groups, no target is `unhealthy`. An alarm that does
 * not exist is reported with state `MISSING` and counts as not recovered: a typo or a deleted alarm
 * must not pass for a recovery. Not recovered is an answer, not an error: the step succeeds with
 * `recovered: false` (runbooks branch on `steps.verify.output.recovered`).
 */

export const VERIFY_RECOVERY_ID = 'verify.recovery';
export const MAX_VERIFY_WAIT_SECONDS = 1800;
export const DEFAULT_POLL_SECONDS = 15;
/** The state reported for a name DescribeAlarms does not know. */
export const MISSING_ALARM_STATE = 'MISSING';

export type VerifyRecoveryOutput = {
  recovered: boolean;
  alarms: AlarmState[];
  /** Over all target groups; null when none were given. */
  targets: { unhealthy: number; healthy: number; total: number } | null;
  waitedMs: number;
  /** How many times the state was read. */
  checks: number;
};

export interface VerifyRecoveryParams {
  alarms: string[];
  targetGroups: string[];
  waitSeconds: number;
  pollSeconds: number;
}

const TARGET_GROUP_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;

/** `with`, checked. Pure. */
export function verifyRecoveryParams(params: Record<string, unknown>): VerifyRecoveryParams {
  const fail = (message: string): never => {
    throw new PermanentActionError(`${VERIFY_RECOVERY_ID}: ${message}`);
  };
  const rawAlarms = params.alarms ?? [];
  if (!Array.isArray(rawAlarms)) fail(`"alarms" must be a list of alarm names or of objects with a "name", got ${JSON.stringify(rawAlarms)}`);
  const alarms = (rawAlarms as unknown[]).map((a) => {
    const name = typeof a === 'object' && a !== null ? (a as { name?: unknown }).name : a;
    if (typeof name !== 'string' || name.trim() === '') return fail(`"alarms" must be a list of alarm names or of objects with a "name"; not one: ${JSON.stringify(a)}`);
    return name.trim();
  });
  const rawGroups = params.target_groups ?? [];
  if (!Array.isArray(rawGroups)) fail(`"target_groups" must be a list of target group ARNs, got ${JSON.stringify(rawGroups)}`);
  const groups = rawGroups as unknown[];
  const bad = groups.filter((v) => typeof v !== 'string' || !TARGET_GROUP_ARN.test(v));
  if (bad.length > 0) fail(`"target_groups" must be a list of target group ARNs; not one: ${bad.map((v) => JSON.stringify(v)).join(', ')}`);
  if (alarms.length === 0 && groups.length === 0) fail('give "alarms" or "target_groups": there is nothing to verify');
  const wait = params.wait_seconds ?? 0;
  if (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0 || wait > MAX_VERIFY_WAIT_SECONDS) {
    fail(`"wait_seconds" must be a whole number from 0 to ${MAX_VERIFY_WAIT_SECONDS}, got ${JSON.stringify(wait)}`);
  }
  const poll = params.poll_seconds ?? DEFAULT_POLL_SECONDS;
  if (typeof poll !== 'number' || !Number.isFinite(poll) || poll <= 0 || poll > 300) fail(`"poll_seconds" must be a number above 0 and at most 300, got ${JSON.stringify(poll)}`);
  return { alarms: [...new Set(alarms)], targetGroups: [...new Set(groups as string[])], waitSeconds: wait as number, pollSeconds: poll as number };
}

/** Whether the checked state is a recovery. Pure. */
export function isRecovered(alarms: readonly AlarmState[], targets: VerifyRecoveryOutput['targets']): boolean {
  return alarms.every((a) => a.state === 'OK') && (targets === null || targets.unhealthy === 0);
}

/** "recovered after 2 checks: 1 alarm OK, 0 of 2 targets unhealthy" / "not recovered after 300 s: checkout-5xx still ALARM". Pure. */
export function verifyRecoverySummary(output: VerifyRecoveryOutput): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const targets = output.targets ? `${output.targets.unhealthy} of ${plural(output.targets.total, 'target')} unhealthy` : null;
  if (output.recovered) {
    const parts = [output.alarms.length > 0 ? `${plural(output.alarms.length, 'alarm')} OK` : null, targets].filter((p) => p !== null);
    return `recovered after ${plural(output.checks, 'check')}: ${parts.join(', ')}`;
  }
  const notOk = output.alarms
    .filter((a) => a.state !== 'OK')
    .map((a) => (a.state === MISSING_ALARM_STATE ? `${a.name} not found` : `${a.name} still ${a.state}`));
  const parts = [...notOk, output.targets && output.targets.unhealthy > 0 ? targets : null].filter((p) => p !== null);
  return `not recovered after ${Math.round(output.waitedMs / 1000)} s: ${parts.join(', ')}`;
}

export function verifyRecoveryAction(cloudwatch: CloudWatchAdapter, elbv2: Elbv2Adapter): Action<ActionOutcome> {
  async function check(p: VerifyRecoveryParams, signal: AbortSignal): Promise<Pick<VerifyRecoveryOutput, 'alarms' | 'targets'>> {
    const [found, targets] = await Promise.all([
      p.alarms.length > 0 ? cloudwatch.alarmStates(p.alarms, { abortSignal: signal }) : Promise.resolve([]),
      p.targetGroups.length > 0 ? targetCounts(p.targetGroups, signal) : Promise.resolve(null),
    ]);
    const byName = new Map(found.map((a) => [a.name, a]));
    const alarms = p.alarms.map(
      (name): AlarmState => byName.get(name) ?? { name, state: MISSING_ALARM_STATE, reason: 'no alarm with this name in the account and region', updatedAt: null },
    );
    return { alarms, targets };
  }

  async function targetCounts(arns: string[], signal: AbortSignal): Promise<VerifyRecoveryOutput['targets']> {
    const groups = await elbv2.describeTargetGroups(arns, { abortSignal: signal });
    const targets = await Promise.all(groups.map((g) => elbv2.describeTargetHealth(g.arn, { abortSignal: signal })));
    const report = targetHealthReport(groups.map((group, i) => ({ group, targets: targets[i] })));
    return { unhealthy: report.unhealthy, healthy: report.healthy, total: report.total };
  }

  return {
    id: VERIFY_RECOVERY_ID,
    mutating: false,
    description:
      'Verify recovery: polls until every alarm is OK and no target is unhealthy, or until wait_seconds pass; not recovered is reported, not failed (with: { alarms, target_groups?, wait_seconds?, poll_seconds? }).',
    iam: ['cloudwatch:DescribeAlarms', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetHealth'],
    plan(params) {
      const p = verifyRecoveryParams(params);
      const what = [...p.alarms, ...p.targetGroups.map(nameOfTargetGroupArn)].join(', ');
      return { summary: `check that ${what} recovered${p.waitSeconds > 0 ? `, waiting up to ${p.waitSeconds} s` : ''}` };
    },
    async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionOutcome> {
      const p = verifyRecoveryParams(params);
      ctx.signal.throwIfAborted();
      const now = Date.now();
      const at = verifyCheckpoint(ctx.checkpoint) ?? { startedAt: now, deadline: now + p.waitSeconds * 1000, checks: 0 };
      const state = await check(p, ctx.signal);
      const checks = at.checks + 1;
      const recovered = isRecovered(state.alarms, state.targets);
      const left = at.deadline - Date.now();
      if (recovered || left <= 0) {
        const output: VerifyRecoveryOutput = { recovered, ...state, waitedMs: Date.now() - at.startedAt, checks };
        return { output, summary: verifyRecoverySummary(output) };
      }
      const next: VerifyCheckpoint = { ...at, checks };
      return { again: { afterMs: Math.min(p.pollSeconds * 1000, left), state: { ...next } } };
    },
  };
}

/** Where a poll is: when it began, its deadline (ms since the epoch), the checks made so far. */
export interface VerifyCheckpoint {
  startedAt: number;
  deadline: number;
  checks: number;
}

function verifyCheckpoint(raw: Record<string, unknown> | undefined): VerifyCheckpoint | null {
  if (!raw || typeof raw.startedAt !== 'number' || typeof raw.deadline !== 'number' || typeof raw.checks !== 'number') return null;
  return { startedAt: raw.startedAt, deadline: raw.deadline, checks: raw.checks };
}
