import { z } from 'zod';
import {
  type ActionDescriptor,
  type Catalog,
  type CompiledExpression,
  type CompiledTemplate,
  type ReferenceSite,
  type SourceParsed,
  type SourceProblem,
  type YamlLocator,
  DEFAULT_GOAL_POLL_MS,
  DEFAULT_GOAL_WITHIN_MS,
  GOAL_CHECK_IDS,
  type Goal,
  type GoalCheckId,
  compileExpression,
  compileTemplate,
  defaultGoal,
  parseYamlSource,
} from '@responder/domain';

/**
 * A runbook file: its schema, and the checks that need the whole file (step graph, expressions,
 * approvals). The format is documented in runbooks/README.md.
 */

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const MAX_DURATION_MS = 24 * 3_600_000;
const DEFAULT_RETRY_DELAY_MS = 1_000;

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export type StepApproval =
  | { kind: 'none' }
  | { kind: 'required' }
  /** Approved automatically when the policy's `when` is true for the run; otherwise it waits for people. */
  | { kind: 'policy'; name: string; description?: string; when: CompiledExpression };

export interface StepRetries {
  /** Total tries, 1 = no retry. */
  attempts: number;
  backoff: 'fixed' | 'exponential';
  delayMs: number;
}

export interface RunbookStep {
  id: string;
  /** Position in the file (0-based): the order steps are listed and planned in. */
  index: number;
  description?: string;
  action: string;
  /** From the action's descriptor: the engine gates mutating steps. */
  mutating: boolean;
  needs: string[];
  when: CompiledExpression | null;
  /** The `with` mapping; `render(context)` gives the parameters (an object). */
  with: CompiledTemplate;
  approval: StepApproval;
  /** Approver groups (catalog `approverGroups`); null means the service's `approvers`. */
  approvers: string[] | null;
  twoPerson: boolean;
  /** Bounds the approval wait and the action's run, each. */
  timeoutMs: number;
  retries: StepRetries;
  onFailure: 'abort' | 'continue';
  /**
   * What a mutating step must achieve after its call, checked as part of the step (`goal:` in the
   * runbook, else the action's default goal); null for none (read-only steps, `goal: none`).
   */
  goal: Goal | null;
  location: SourceLocation;
}

export interface RunbookInput {
  default: unknown;
  description?: string;
}

export interface RunbookPolicy {
  name: string;
  description?: string;
  when: CompiledExpression;
}

export interface RunbookTriggers {
  /** Globs over the catalog service name; null = any incident, routed or not. */
  services: string[] | null;
  /** Globs over the incident's alarm names; null = any. */
  alarms: string[] | null;
  manualOnly: boolean;
}

export interface Runbook {
  name: string;
  description?: string;
  file: string;
  /** Where `name` is written. */
  location: SourceLocation;
  triggers: RunbookTriggers;
  inputs: Record<string, RunbookInput>;
  policies: Record<string, RunbookPolicy>;
  steps: RunbookStep[];
}

/**
 * The expression context's names and, where they are fixed, their fields (null: anything below).
 * `inputs` and `steps` are checked against the runbook itself. Extend this when the engine adds
 * to the context.
 */
export const CONTEXT_FIELDS: Readonly<Record<string, readonly string[] | null>> = {
  incident: ['id', 'service', 'title', 'status', 'routed', 'openedAt', 'onsetAt'],
  alarm: ['name', 'arn', 'kind', 'state', 'reason', 'stateChangedAt'],
  alarms: null,
  service: ['name', 'description', 'alarms', 'ecs', 'loadBalancer', 'logGroups', 'securityGroups', 'codeDeploy', 'aurora', 'slack', 'approvers', 'limits', 'autonomy', 'deny'],
  inputs: null,
  steps: null,
  mode: [],
  now: [],
};
/** What `steps.<id>` holds. */
export const STEP_CONTEXT_FIELDS: readonly string[] = ['status', 'output', 'error', 'reason'];

// ---------------------------------------------------------------------------------------------
// Durations

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** "30s", "15m", "1h", "1h30m", "500ms", or a number of seconds. */
export function parseDuration(value: unknown): { ok: true; ms: number } | { ok: false; error: string } {
  const bad = { ok: false as const, error: `expected a duration such as "30s", "15m", "1h" or a number of seconds, got ${JSON.stringify(value) ?? String(value)}` };
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return bad;
    ms = value * 1000;
  } else if (typeof value === 'string' && /^(\d+(\.\d+)?(ms|s|m|h))+$/.test(value.trim())) {
    ms = 0;
    for (const m of value.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * UNIT_MS[m[2]];
    if (ms <= 0) return bad;
  } else {
    return bad;
  }
  if (ms > MAX_DURATION_MS) return { ok: false, error: `a duration of at most 24h is allowed, got ${JSON.stringify(value)}` };
  return { ok: true, ms: Math.round(ms) };
}

// ---------------------------------------------------------------------------------------------
// Schema

const duration = z.unknown().transform((value, ctx) => {
  const d = parseDuration(value);
  if (!d.ok) {
    ctx.addIssue({ code: 'custom', message: d.error });
    return z.NEVER;
  }
  return d.ms;
});

type RawApproval = { kind: 'none' } | { kind: 'required' } | { kind: 'policy'; name: string };
const approval = z.unknown().transform((value, ctx): RawApproval => {
  if (value === 'none' || value === 'required') return { kind: value };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const policy = (value as Record<string, unknown>).policy;
    if (keys.length === 1 && typeof policy === 'string' && policy.length > 0) return { kind: 'policy', name: policy };
  }
  ctx.addIssue({ code: 'custom', message: `expected none, required or { policy: <name> }, got ${JSON.stringify(value) ?? String(value)}` });
  return z.NEVER;
});

const stepId = z.string().regex(/^[a-z0-9_-]+$/, 'expected a step id of a-z, 0-9, "_" and "-"');
const glob = z.string().min(1, 'expected a non-empty glob');

const step = z
  .object({
    id: stepId,
    description: z.string().optional(),
    action: z.string().min(1, 'expected an action id'),
    needs: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(stepId)).default([]),
    when: z.union([z.string().min(1, 'expected a condition'), z.boolean()]).optional(),
    with: z.record(z.string(), z.unknown()).default({}),
    approval: approval.optional(),
    approvers: z.array(z.string().min(1)).min(1, 'expected at least one approver group (or leave approvers out)').optional(),
    two_person: z.boolean().default(false),
    timeout: duration.optional(),
    retries: z
      .object({
        attempts: z.number().int().min(1).max(10).default(1),
        backoff: z.enum(['fixed', 'exponential']).default('exponential'),
        delay: duration.optional(),
      })
      .strict()
      .optional(),
    on_failure: z.enum(['abort', 'continue']).default('abort'),
    // Checked in compileStep, where the action is known (file:line:column errors of its own).
    goal: z.unknown().optional(),
  })
  .strict();

const runbookSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a runbook name of a-z, 0-9 and "-"'),
    description: z.string().optional(),
    triggers: z
      .object({
        services: z.array(glob).optional(),
        alarms: z.array(glob).optional(),
        manual_only: z.boolean().default(false),
      })
      .strict()
      .optional(),
    inputs: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an input name of letters, digits and "_" (it is read as inputs.<name>)'),
        z.object({ default: z.unknown(), description: z.string().optional() }).strict(),
      )
      .default({}),
    policies: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a policy name of a-z, 0-9, "_" and "-"'),
        z.object({ description: z.string().optional(), when: z.union([z.string().min(1), z.boolean()]) }).strict(),
      )
      .default({}),
    steps: z.array(step).min(1, 'expected at least one step'),
  })
  .strict();

type RawRunbook = z.output<typeof runbookSchema>;
type RawStep = RawRunbook['steps'][number];

// ---------------------------------------------------------------------------------------------
// Checks

export interface ParseRunbookOptions {
  /** When given, approver groups and exact service names are checked against it. */
  catalog?: Catalog;
}

/**
 * Parses and validates one runbook file. Every problem is located (`file:line:column`); an
 * expression's problem points inside the string when it is written on one line.
 */
export function parseRunbook(
  file: string,
  text: string,
  actions: ReadonlyMap<string, ActionDescriptor>,
  options: ParseRunbookOptions = {},
): SourceParsed<Runbook> {
  return analyseRunbook(file, text, actions, options).result;
}

/** parseRunbook, plus the runbook's name and where it is even when the file is invalid (for duplicate names). */
export function analyseRunbook(
  file: string,
  text: string,
  actions: ReadonlyMap<string, ActionDescriptor>,
  options: ParseRunbookOptions = {},
): { result: SourceParsed<Runbook>; name: { value: string; location: SourceLocation } | null } {
  const parsed = parseYamlSource(file, text, runbookSchema);
  if (!parsed.ok) {
    const raw = parsed.raw;
    if (parsed.locator && raw == null) {
      return { result: { ok: false, problems: [{ file, line: 1, column: 1, path: '(body)', message: 'the file is empty: expected a runbook (name, steps, …)' }] }, name: null };
    }
    const rawName = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).name : undefined;
    const name = typeof rawName === 'string' && parsed.locator ? { value: rawName, location: { file, ...parsed.locator.at(['name']) } } : null;
    return { result: { ok: false, problems: parsed.problems }, name };
  }
  const checker = new RunbookChecker(file, parsed.value, parsed.locator, actions, options);
  const result = checker.check();
  return { result, name: { value: parsed.value.name, location: { file, ...parsed.locator.at(['name']) } } };
}

interface Scope {
  /** The step whose expression this is (a step cannot read itself). */
  self?: string;
  /** Steps whose results can exist when the expression runs; undefined = any step of the runbook. */
  reachable?: ReadonlySet<string>;
}

class RunbookChecker {
  private readonly problems: SourceProblem[] = [];
  private readonly stepIds: Set<string>;
  private readonly inputs: Set<string>;

  constructor(
    private readonly file: string,
    private readonly raw: RawRunbook,
    private readonly locator: YamlLocator,
    private readonly actions: ReadonlyMap<string, ActionDescriptor>,
    private readonly options: ParseRunbookOptions,
  ) {
    this.stepIds = new Set(raw.steps.map((s) => s.id));
    this.inputs = new Set(Object.keys(raw.inputs));
  }

  private report(path: ReadonlyArray<PropertyKey>, message: string, offset?: number): void {
    this.problems.push(this.locator.problem(path, message, offset));
  }

  check(): SourceParsed<Runbook> {
    const raw = this.raw;
    this.checkTriggers();
    this.checkStepIds();
    this.checkNeeds();
    this.checkCycles();
    const ancestors = this.ancestors();
    const policies = this.compilePolicies();
    const steps = raw.steps.map((s, i) => this.compileStep(s, i, ancestors.get(s.id) ?? new Set(), policies));

    if (this.problems.length > 0) {
      const problems = [...this.problems].sort((a, b) => a.line - b.line || a.column - b.column);
      return { ok: false, problems };
    }
    const nameAt = this.locator.at(['name']);
    return {
      ok: true,
      value: {
        name: raw.name,
        description: raw.description,
        file: this.file,
        location: { file: this.file, ...nameAt },
        triggers: {
          services: raw.triggers?.services ?? null,
          alarms: raw.triggers?.alarms ?? null,
          manualOnly: raw.triggers?.manual_only ?? false,
        },
        inputs: Object.fromEntries(Object.entries(raw.inputs).map(([k, v]) => [k, { default: v.default, description: v.description }])),
        policies: Object.fromEntries([...policies].filter((e): e is [string, RunbookPolicy] => e[1] !== null)),
        steps: steps.filter((s): s is RunbookStep => s !== null),
      },
    };
  }

  private checkTriggers(): void {
    const catalog = this.options.catalog;
    if (!catalog) return;
    (this.raw.triggers?.services ?? []).forEach((s, j) => {
      if (!/[*?]/.test(s) && !Object.hasOwn(catalog.services, s)) {
        this.report(['triggers', 'services', j], `no service "${s}" in the service catalog${suggest(s, Object.keys(catalog.services))}`);
      }
    });
  }

  private checkStepIds(): void {
    const seen = new Map<string, number>();
    this.raw.steps.forEach((s, i) => {
      const first = seen.get(s.id);
      if (first !== undefined) {
        this.report(['steps', i, 'id'], `duplicate step id "${s.id}" (also step ${first + 1}, line ${this.locator.at(['steps', first, 'id']).line})`);
      } else {
        seen.set(s.id, i);
      }
    });
  }

  private checkNeeds(): void {
    this.raw.steps.forEach((s, i) => {
      s.needs.forEach((n, j) => {
        if (n === s.id) this.report(['steps', i, 'needs', j], `step "${s.id}" needs itself`);
        else if (!this.stepIds.has(n)) this.report(['steps', i, 'needs', j], `unknown step "${n}" in needs${suggest(n, [...this.stepIds])}`);
      });
    });
  }

  /** Reports each cycle of `needs` once, naming its steps in order. */
  private checkCycles(): void {
    const byId = new Map(this.raw.steps.map((s, i) => [s.id, { step: s, index: i }] as const));
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const reported = new Set<string>();
    const visit = (id: string): void => {
      state.set(id, 'visiting');
      stack.push(id);
      for (const n of byId.get(id)?.step.needs ?? []) {
        if (!byId.has(n) || n === id) continue;
        if (state.get(n) === 'visiting') {
          const cycle = stack.slice(stack.indexOf(n));
          const key = [...cycle].sort().join(' ');
          if (reported.has(key)) continue;
          reported.add(key);
          // Start the story at the cycle's step that comes first in the file.
          const first = cycle.reduce((a, b) => (byId.get(a)!.index <= byId.get(b)!.index ? a : b));
          const k = cycle.indexOf(first);
          const ordered = [...cycle.slice(k), ...cycle.slice(0, k)];
          const edges = ordered.map((c, i) => `${c} needs ${ordered[(i + 1) % ordered.length]}`);
          const at = byId.get(first)!;
          this.report(
            ['steps', at.index, 'needs', at.step.needs.indexOf(ordered[1 % ordered.length])],
            `needs form a cycle: ${[...ordered, first].join(' → ')} (${edges.join(', ')})`,
          );
        } else if (state.get(n) === undefined) {
          visit(n);
        }
      }
      stack.pop();
      state.set(id, 'done');
    };
    for (const s of this.raw.steps) if (!state.has(s.id)) visit(s.id);
  }

  /** Every step each step transitively needs. */
  private ancestors(): Map<string, Set<string>> {
    const needs = new Map(this.raw.steps.map((s) => [s.id, s.needs.filter((n) => this.stepIds.has(n) && n !== s.id)]));
    const out = new Map<string, Set<string>>();
    for (const s of this.raw.steps) {
      const seen = new Set<string>();
      const todo = [...(needs.get(s.id) ?? [])];
      while (todo.length > 0) {
        const n = todo.pop()!;
        if (seen.has(n)) continue;
        seen.add(n);
        todo.push(...(needs.get(n) ?? []));
      }
      seen.delete(s.id);
      out.set(s.id, seen);
    }
    return out;
  }

  private compilePolicies(): Map<string, RunbookPolicy | null> {
    const out = new Map<string, RunbookPolicy | null>();
    for (const [name, p] of Object.entries(this.raw.policies)) {
      const expr = this.compileCondition(['policies', name, 'when'], p.when, {});
      out.set(name, expr ? { name, description: p.description, when: expr } : null);
    }
    return out;
  }

  private compileCondition(path: Array<string | number>, source: string | boolean, scope: Scope): CompiledExpression | null {
    const text = typeof source === 'boolean' ? String(source) : source;
    const compiled = compileExpression(text);
    if (!compiled.ok) {
      this.report(path, `condition does not parse: ${compiled.error}`, typeof source === 'string' ? compiled.offset : undefined);
      return null;
    }
    let valid = true;
    for (const site of compiled.expr.referenceSites()) {
      const problem = this.checkReference(site, scope);
      if (problem) {
        this.report(path, problem.message, typeof source === 'string' ? problem.offset : undefined);
        valid = false;
      }
    }
    return valid ? compiled.expr : null;
  }

  private compileStep(s: RawStep, i: number, reachable: Set<string>, policies: Map<string, RunbookPolicy | null>): RunbookStep | null {
    const before = this.problems.length;
    const at = (...rest: Array<string | number>) => ['steps', i, ...rest];
    const action = this.actions.get(s.action);
    if (!action) {
      this.report(at('action'), `unknown action "${s.action}"${suggest(s.action, [...this.actions.keys()], true)}`);
    }

    // A runbook written for a service (named exactly in triggers.services) may not use what the
    // catalog denies it; one matched by a glob has such steps skipped at run time, with the reason.
    const catalog = this.options.catalog;
    if (catalog && action?.mutating) {
      for (const name of this.raw.triggers?.services ?? []) {
        const svc = Object.hasOwn(catalog.services, name) ? catalog.services[name] : undefined;
        if (svc?.deny.includes(s.action)) {
          this.report(at('action'), `step "${s.id}" runs "${s.action}", which the service catalog denies for service "${name}" (services.${name}.deny): it would never run`);
        }
      }
    }

    const scope: Scope = { self: s.id, reachable };
    const when = s.when === undefined ? null : this.compileCondition(at('when'), s.when, scope);

    const template = compileTemplate(s.with);
    let withTemplate: CompiledTemplate | null = null;
    if (!template.ok) {
      this.report(at('with', ...template.path), `template does not parse: ${template.error}`, template.offset);
    } else {
      withTemplate = template.template;
      for (const site of template.template.referenceSites()) {
        const problem = this.checkReference(site, scope);
        if (problem) this.report(at('with', ...site.valuePath), problem.message, problem.offset);
      }
    }

    let approval: StepApproval | null = null;
    const rawApproval = s.approval;
    if (action?.mutating && rawApproval === undefined) {
      this.report(
        at('action'),
        `step "${s.id}" runs "${s.action}", which changes production, and has no approval setting: add approval: required, approval: { policy: <name> }, or approval: none to run it unattended`,
      );
    } else if (action && !action.mutating && rawApproval !== undefined && rawApproval.kind !== 'none') {
      this.report(at('approval'), `"${s.action}" is read-only: approval applies to mutating actions only (remove it or set none)`);
    }
    if (rawApproval?.kind === 'policy') {
      const policy = policies.get(rawApproval.name);
      if (!policies.has(rawApproval.name)) {
        const defined = [...policies.keys()];
        this.report(
          at('approval', 'policy'),
          `unknown policy "${rawApproval.name}" ${defined.length > 0 ? `(policies: ${defined.join(', ')})` : '(this runbook defines no policies)'}`,
        );
      } else if (policy) {
        // The policy is evaluated for this step: every step it reads must be one this step waits for.
        for (const site of policy.when.referenceSites()) {
          const id = site.path[0] === 'steps' ? site.path[1] : undefined;
          if (id !== undefined && this.stepIds.has(id) && (id === s.id || !reachable.has(id))) {
            this.report(
              at('approval', 'policy'),
              id === s.id
                ? `policy "${policy.name}" reads steps.${id}, the output of this very step, which does not exist before its approval`
                : `policy "${policy.name}" reads steps.${id}, but step "${s.id}" does not need "${id}" (directly or through its needs): add it to needs`,
            );
          }
        }
        approval = { kind: 'policy', name: policy.name, description: policy.description, when: policy.when };
      }
    } else {
      approval = rawApproval ?? { kind: 'none' };
    }

    const needsApproval = rawApproval !== undefined && rawApproval.kind !== 'none';
    if (!needsApproval && s.approvers !== undefined) {
      this.report(at('approvers'), 'approvers has no effect: this step needs no approval (approval: required or a policy)');
    }
    if (!needsApproval && s.two_person) {
      this.report(at('two_person'), 'two_person has no effect: this step needs no approval (approval: required or a policy)');
    }
    const groups = this.options.catalog?.approverGroups;
    if (groups) {
      (s.approvers ?? []).forEach((g, j) => {
        if (!Object.hasOwn(groups, g)) this.report(at('approvers', j), `unknown approver group "${g}" (not in the catalog's approverGroups)${suggest(g, Object.keys(groups))}`);
      });
    }

    const goal = this.compileGoal(s, action, at);

    if (this.problems.length > before || !withTemplate || !approval || goal === undefined) return null;
    const location = { file: this.file, ...this.locator.at(at('id')) };
    return {
      id: s.id,
      index: i,
      description: s.description,
      action: s.action,
      mutating: action?.mutating ?? false,
      needs: [...new Set(s.needs)],
      when,
      with: withTemplate,
      approval,
      approvers: s.approvers ?? null,
      twoPerson: s.two_person,
      timeoutMs: s.timeout ?? DEFAULT_TIMEOUT_MS,
      retries: {
        attempts: s.retries?.attempts ?? 1,
        backoff: s.retries?.backoff ?? 'exponential',
        delayMs: s.retries?.delay ?? DEFAULT_RETRY_DELAY_MS,
      },
      onFailure: s.on_failure,
      goal,
      location,
    };
  }

  /**
   * `goal: none | { within, poll, checks }` (within: minutes or a duration; poll: seconds or a
   * duration; checks: GOAL_CHECK_IDS), or the action's default goal. undefined after a problem.
   */
  private compileGoal(s: RawStep, action: ActionDescriptor | undefined, at: (...rest: Array<string | number>) => Array<string | number>): Goal | null | undefined {
    const raw = s.goal;
    const fallback = action?.mutating ? defaultGoal(s.action) : null;
    if (raw === undefined) return fallback;
    if (raw === 'none') return null;
    if (action && !action.mutating) {
      this.report(at('goal'), `goal has no effect: ${s.action} changes nothing (a goal is checked after a mutating call)`);
      return undefined;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      this.report(at('goal'), `expected none or { within, poll, checks }, got ${JSON.stringify(raw)}`);
      return undefined;
    }
    const fields = raw as Record<string, unknown>;
    let ok = true;
    for (const key of Object.keys(fields)) {
      if (!['within', 'poll', 'checks'].includes(key)) {
        this.report(at('goal', key), `unknown goal field "${key}": a goal has within (minutes), poll (seconds) and checks`);
        ok = false;
      }
    }
    const span = (key: 'within' | 'poll', unitMs: number, fallbackMs: number): number => {
      const value = fields[key];
      if (value === undefined) return fallbackMs;
      const d = typeof value === 'number' ? parseDuration((value * unitMs) / 1000) : parseDuration(value);
      if (!d.ok) {
        this.report(at('goal', key), `${key}: ${typeof value === 'number' ? `expected a number of ${unitMs === 60_000 ? 'minutes' : 'seconds'} above 0 (at most 24h)` : d.error}, got ${JSON.stringify(value)}`);
        ok = false;
        return fallbackMs;
      }
      return d.ms;
    };
    const withinMs = span('within', 60_000, fallback?.withinMs ?? DEFAULT_GOAL_WITHIN_MS);
    const pollMs = span('poll', 1000, fallback?.pollMs ?? DEFAULT_GOAL_POLL_MS);
    let checks: GoalCheckId[] = fallback?.checks ?? [];
    if (fields.checks !== undefined) {
      if (!Array.isArray(fields.checks) || fields.checks.length === 0) {
        this.report(at('goal', 'checks'), `expected a non-empty list of checks (${GOAL_CHECK_IDS.join(', ')}), got ${JSON.stringify(fields.checks)}`);
        ok = false;
      } else {
        checks = [];
        (fields.checks as unknown[]).forEach((c, j) => {
          if (typeof c === 'string' && (GOAL_CHECK_IDS as readonly string[]).includes(c)) checks.push(c as GoalCheckId);
          else {
            this.report(at('goal', 'checks', j), `unknown goal check ${JSON.stringify(c)}${(typeof c === 'string' && suggest(c, GOAL_CHECK_IDS)) || ` (the checks are ${GOAL_CHECK_IDS.join(', ')})`}`);
            ok = false;
          }
        });
      }
    } else if (checks.length === 0 && ok) {
      this.report(at('goal'), `${s.action} has no default goal: name its checks (${GOAL_CHECK_IDS.join(', ')}) or write goal: none`);
      ok = false;
    }
    if (ok && pollMs > withinMs) {
      this.report(at('goal', 'poll'), 'poll is longer than within: the goal would be checked once, at its deadline');
      ok = false;
    }
    return ok ? { withinMs, pollMs, checks: [...new Set(checks)] } : undefined;
  }

  /** A reference the context cannot satisfy, with the offset of the segment at fault. */
  private checkReference(site: ReferenceSite, scope: Scope): { message: string; offset: number } | null {
    const [root, second, third] = site.path;
    const off = (i: number) => site.offsets[Math.min(i, site.offsets.length - 1)];
    if (!Object.hasOwn(CONTEXT_FIELDS, root)) {
      return { message: `unknown name "${root}": the context has ${Object.keys(CONTEXT_FIELDS).join(', ')}${suggest(root, Object.keys(CONTEXT_FIELDS))}`, offset: off(0) };
    }
    if (second === undefined) return null;
    if (root === 'inputs') {
      if (this.inputs.has(second)) return null;
      const declared = [...this.inputs];
      return {
        message: `inputs.${second} is not declared under inputs${declared.length > 0 ? ` (declared: ${declared.join(', ')})` : ''}`,
        offset: off(1),
      };
    }
    if (root === 'steps') {
      if (!this.stepIds.has(second)) return { message: `steps.${second}: there is no step "${second}" in this runbook${suggest(second, [...this.stepIds])}`, offset: off(1) };
      if (scope.self !== undefined && second === scope.self) {
        return { message: `steps.${second}: a step cannot read its own status or output`, offset: off(1) };
      }
      if (scope.reachable && !scope.reachable.has(second)) {
        return {
          message: `steps.${second}: step "${scope.self}" does not need "${second}" (directly or through its needs), so its output could not exist yet: add it to needs`,
          offset: off(1),
        };
      }
      if (third !== undefined && !STEP_CONTEXT_FIELDS.includes(third)) {
        return { message: `steps.${second}.${third}: a step has only ${STEP_CONTEXT_FIELDS.join(', ')}${suggest(third, STEP_CONTEXT_FIELDS)}`, offset: off(2) };
      }
      return null;
    }
    const fields = CONTEXT_FIELDS[root];
    if (fields === null || fields.includes(second)) return null;
    return {
      message: fields.length === 0 ? `${root} is a string: it has no field "${second}"` : `${root} has no field "${second}" (it has ${fields.join(', ')})`,
      offset: off(1),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Suggestions

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** " (did you mean "x"?)", or with `listAll`, the known names when none is close. */
function suggest(name: string, candidates: readonly string[], listAll = false): string {
  const close = candidates
    .map((c) => ({ c, d: editDistance(name.toLowerCase(), c.toLowerCase()) }))
    .filter(({ c, d }) => d < name.length && d <= Math.max(1, Math.floor(c.length / 4)))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map(({ c }) => `"${c}"`);
  if (close.length > 0) return ` (did you mean ${close.join(' or ')}?)`;
  if (listAll && candidates.length > 0) return ` (known actions: ${[...candidates].sort().join(', ')})`;
  return '';
}
