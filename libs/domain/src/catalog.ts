import { z } from 'zod';
import type { ActionDescriptor } from './action';
import { checkPeople } from './people';
import { parseYamlSource, type SourceParsed, type SourceProblem, type YamlLocator } from './yaml-source';

/**
 * The service catalog: which alarms belong to which service, and the service's resources.
 * Format and a full example: runbooks/README.md.
 */
const name = z.string().min(1);
const slackUserId = z.string().regex(/^[UW][A-Z0-9]+$/, 'expected a Slack user id such as "U0123ABCD"');

/**
 * One person, under every name a channel may carry for them: a Slack click carries the Slack user
 * id, a personal token the name it was created for, an OIDC token its OIDC_USER_CLAIM (the e-mail
 * by default, or a subject). Two-person approval counts people, so all of them lead to one entry.
 */
const person = z
  .object({
    /** For people to read (Slack messages, RCA); the key stays the stable id. */
    name: z.string().min(1).max(100).optional(),
    slack: slackUserId.optional(),
    email: z.string().regex(/^[^\s@]+@[^\s@]+$/, 'expected an e-mail address such as "alice@example.com"').optional(),
    /** Other names a credential may carry for this person: SSO user names, OIDC subjects. */
    usernames: z.array(name).default([]),
  })
  .strict();
export const PERSON_ID = /^[a-z0-9][a-z0-9._-]*$/;

const approverGroup = z
  .object({
    /** Person ids (catalog `people`). */
    people: z.array(name).default([]),
    slackUserGroup: z.string().regex(/^S[A-Z0-9]+$/, 'expected a Slack user group id such as "S0123ABCD"').optional(),
    /** The older form, still read: each Slack user id or name here not in `people` is a person of its own. */
    slackUsers: z.array(slackUserId).default([]),
    /** The older form: names accepted from the HTTP API and CLI (e-mail addresses or SSO user names). */
    users: z.array(name).default([]),
  })
  .strict();

/**
 * How far automation may go with a mutating action on a service: `off` never proposes it, `ask`
 * always waits for people (whatever the runbook's approval says), `auto` lets the runbook's
 * approval decide (a policy may grant it, `none` runs it).
 */
export const AUTONOMY_LEVELS = ['off', 'ask', 'auto'] as const;
export type AutonomyLevel = (typeof AUTONOMY_LEVELS)[number];
/** For a mutating action the catalog says nothing about. */
export const DEFAULT_AUTONOMY: AutonomyLevel = 'ask';
const autonomyLevel = z.enum(AUTONOMY_LEVELS, { error: 'expected off, ask or auto' });

const service = z
  .object({
    description: z.string().optional(),
    /** Action id (or "*": any other mutating action) → level; a single level applies to every action. */
    autonomy: z
      .preprocess((v) => (typeof v === 'string' ? { '*': v } : v), z.record(z.string().min(1), autonomyLevel))
      .default({}),
    /** Actions never run for this service, whatever a runbook says. */
    deny: z.array(name).default([]),
    alarms: z
      .object({
        names: z.array(name).default([]),
        patterns: z.array(name).default([]),
        arns: z.array(z.string().regex(/^arn:aws[a-z-]*:cloudwatch:[^:]+:\d{12}:alarm:.+$/, 'expected a CloudWatch alarm ARN')).default([]),
      })
      .strict(),
    ecs: z.object({ cluster: name, service: name }).strict().optional(),
    loadBalancer: z
      .object({ arn: z.string().optional(), targetGroups: z.array(z.string()).default([]) })
      .strict()
      .optional(),
    logGroups: z.array(name).default([]),
    /** The service's security groups (tasks and load balancer): changes.recent looks for changes to them. */
    securityGroups: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'expected a security group id such as "sg-0123456789abcdef0"')).default([]),
    codeDeploy: z.object({ application: name, deploymentGroup: name }).strict().optional(),
    aurora: z.object({ cluster: name }).strict().optional(),
    slack: z
      .object({ channel: z.string().optional(), stakeholderChannel: z.string().optional() })
      .strict()
      .optional(),
    approvers: z.array(name).default([]),
    limits: z
      .object({
        minTasks: z.number().int().min(0).default(1),
        maxTasks: z.number().int().min(1).default(10),
        scaleUpFactor: z.number().min(1).max(10).default(2),
        cooldownMinutes: z.number().min(0).default(10),
        autoRollbackWindowMinutes: z.number().min(0).default(30),
        // The diagnosis must blame the deployment at least this surely for a rollback without people.
        autoRollbackMinConfidence: z.number().min(0).max(1).default(0.8),
      })
      .strict()
      .default({ minTasks: 1, maxTasks: 10, scaleUpFactor: 2, cooldownMinutes: 10, autoRollbackWindowMinutes: 30, autoRollbackMinConfidence: 0.8 }),
  })
  .strict();

const catalogSchema = z
  .object({
    /** The shipped example says so: the service then warns loudly and defaults to dry-run. */
    example: z.boolean().optional(),
    people: z.record(z.string().regex(PERSON_ID, 'expected a person id of a-z, 0-9, ".", "-", "_" (such as "alice")'), person).default({}),
    approverGroups: z.record(name, approverGroup).default({}),
    services: z.record(z.string().regex(/^[a-z0-9][a-z0-9-_.]*$/, 'expected a service name of a-z, 0-9, "-", "_", "."'), service).default({}),
  })
  .strict();

export type CatalogService = z.output<typeof service> & { name: string };
export type ApproverGroup = z.output<typeof approverGroup>;
export type PersonEntry = z.output<typeof person>;

export interface Catalog {
  services: Record<string, CatalogService>;
  approverGroups: Record<string, ApproverGroup>;
  /** The people approver groups name, by stable id; absent when the file declares none. */
  people?: Record<string, PersonEntry>;
  /** True for the shipped example catalog (`example: true`), which describes no real production. */
  example?: boolean;
}

export type MatchedBy = 'arn' | 'name' | 'pattern';
export interface ServiceMatch {
  service: CatalogService;
  matchedBy: MatchedBy;
}

export const EMPTY_CATALOG: Catalog = { services: {}, approverGroups: {} };

export interface ParseCatalogOptions {
  /** The actions the build knows: `autonomy` and `deny` must name mutating ones. */
  actions?: ReadonlyMap<string, ActionDescriptor>;
}

/**
 * Parses and checks a catalog file's text: schema, people (no Slack id, e-mail or name of two
 * people; groups name known people), approver groups that exist, no alarm claimed twice, and (given the actions) autonomy and deny lists that name mutating actions.
 */
export function parseCatalog(file: string, text: string, options: ParseCatalogOptions = {}): SourceParsed<Catalog> {
  const parsed = parseYamlSource(file, text, catalogSchema.nullable());
  if (!parsed.ok) return parsed;
  const raw: z.output<typeof catalogSchema> = parsed.value ?? { services: {}, approverGroups: {}, people: {} };
  const services: Record<string, CatalogService> = {};
  for (const [key, svc] of Object.entries(raw.services)) services[key] = { ...svc, name: key };
  const people = raw.people;
  const catalog: Catalog = {
    services,
    approverGroups: raw.approverGroups,
    ...(Object.keys(people).length > 0 ? { people } : {}),
    ...(raw.example ? { example: true } : {}),
  };
  const problems = crossCheck(parsed.locator, catalog, options.actions);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: catalog };
}

function crossCheck(locator: YamlLocator, catalog: Catalog, actions: ReadonlyMap<string, ActionDescriptor> | undefined): SourceProblem[] {
  const problems: SourceProblem[] = [];
  const at = (path: (string | number)[], message: string) => problems.push(locator.problem(path, message));
  checkPeople(catalog, at);
  const claimed = new Map<string, string>();
  for (const svc of Object.values(catalog.services)) {
    svc.approvers.forEach((group, i) => {
      if (!catalog.approverGroups[group]) at(['services', svc.name, 'approvers', i], `unknown approver group "${group}" (not in approverGroups)`);
    });
    const keys: Array<[string, (string | number)[]]> = [
      ...svc.alarms.names.map((n, i): [string, (string | number)[]] => [`name ${n}`, ['services', svc.name, 'alarms', 'names', i]]),
      ...svc.alarms.arns.map((a, i): [string, (string | number)[]] => [`arn ${a}`, ['services', svc.name, 'alarms', 'arns', i]]),
    ];
    for (const [key, path] of keys) {
      const owner = claimed.get(key);
      if (owner && owner !== svc.name) at(path, `alarm ${key} is already claimed by service "${owner}"`);
      claimed.set(key, svc.name);
    }
    if (svc.limits.minTasks > svc.limits.maxTasks) at(['services', svc.name, 'limits', 'minTasks'], 'minTasks is above maxTasks');
    if (actions) {
      const known = (id: string, path: (string | number)[]) => {
        const action = actions.get(id);
        if (!action) at(path, `unknown action "${id}" (mutating actions: ${[...actions.values()].filter((a) => a.mutating).map((a) => a.id).sort().join(', ')})`);
        else if (!action.mutating) at(path, `"${id}" is read-only: autonomy and deny apply to mutating actions`);
      };
      // A single level (autonomy: ask) is read as { "*": ask }: its problems point at autonomy itself.
      for (const id of Object.keys(svc.autonomy)) if (id !== '*') known(id, ['services', svc.name, 'autonomy', id]);
      svc.deny.forEach((id, i) => known(id, ['services', svc.name, 'deny', i]));
    }
  }
  return problems;
}

/**
 * What the catalog lets automation do with a mutating action on a service: denied (never run),
 * or its autonomy level and where that comes from (for the plan's "why"). An unrouted incident
 * (no catalog entry) gets the default, `ask`.
 */
export type AutonomyDecision = { denied: true; why: string } | { denied: false; level: AutonomyLevel; why: string };

export function autonomyOf(service: Pick<CatalogService, 'name' | 'autonomy' | 'deny'> | null, action: string): AutonomyDecision {
  if (!service) return { denied: false, level: DEFAULT_AUTONOMY, why: `autonomy ${DEFAULT_AUTONOMY} for ${action} (unrouted incident: no catalog entry)` };
  if (service.deny.includes(action)) return { denied: true, why: `${action} is on the deny list of service ${service.name} in the catalog: never run` };
  const own = service.autonomy[action];
  if (own) return { denied: false, level: own, why: `autonomy ${own} for ${action} on service ${service.name} (catalog)` };
  const any = service.autonomy['*'];
  if (any) return { denied: false, level: any, why: `autonomy ${any} for every action on service ${service.name} (catalog)` };
  return { denied: false, level: DEFAULT_AUTONOMY, why: `autonomy ${DEFAULT_AUTONOMY} for ${action} on service ${service.name} (the default: the catalog does not say)` };
}

/** Glob with `*` (any run of characters) and `?` (one character), anchored at both ends. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/**
 * Finds the service an alarm belongs to: an exact ARN first, then an exact name, then the first
 * pattern in file order. Built once per catalog: matching runs for every event.
 */
export class CatalogMatcher {
  private readonly byArn = new Map<string, CatalogService>();
  private readonly byName = new Map<string, CatalogService>();
  private readonly patterns: Array<{ re: RegExp; service: CatalogService }> = [];

  constructor(readonly catalog: Catalog) {
    for (const svc of Object.values(catalog.services)) {
      for (const arn of svc.alarms.arns) this.byArn.set(arn, svc);
      for (const n of svc.alarms.names) this.byName.set(n, svc);
      for (const p of svc.alarms.patterns) this.patterns.push({ re: globToRegExp(p), service: svc });
    }
  }

  match(alarm: { alarmName: string; alarmArn: string }): ServiceMatch | null {
    const byArn = this.byArn.get(alarm.alarmArn);
    if (byArn) return { service: byArn, matchedBy: 'arn' };
    const byName = this.byName.get(alarm.alarmName);
    if (byName) return { service: byName, matchedBy: 'name' };
    const pattern = this.patterns.find((p) => p.re.test(alarm.alarmName));
    return pattern ? { service: pattern.service, matchedBy: 'pattern' } : null;
  }
}
