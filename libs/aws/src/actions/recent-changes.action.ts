import { type Action, type ActionContext, type ActionResult, PermanentActionError } from '@responder/domain';
import type { CloudTrailAdapter, TrailEvent, TrailLookup, TrailLookupKey } from '../cloudtrail.adapter';
import { cloudTrailEventLink } from '../console-links';

/**
 * `changes.recent`: who changed the service's resources shortly before the onset. CloudTrail
 * LookupEvents (management events, read from the account's event history: no trail needed).
 *
 * `with: { onset, window_minutes? (1-1440, default 60), margin_minutes? (0-60, default 5), cluster?,
 * service?, task_definition_family?, load_balancer?, target_groups?, security_groups?,
 * aurora_cluster?, codedeploy_application? }`: the window is [onset − window_minutes, onset +
 * margin_minutes].
 *
 * LookupEvents takes one lookup attribute per call and allows 2 calls a second, so the calls are
 * few and made together: `ReadOnly=false` (every write in the window, up to WRITE_PAGES pages) and
 * one `ResourceName=` lookup for each of up to MAX_RESOURCE_LOOKUPS of the resources (up to
 * RESOURCE_PAGES pages each), which still finds their events in a busy account where the first is
 * cut short. Events are merged by id, and kept when they are writes that succeeded and name one of
 * the resources (in their resources or request parameters; `matchResource`). An UpdateService of
 * the service that names a task definition also makes that family's RegisterTaskDefinition relevant.
 */

export const CHANGES_RECENT_ID = 'changes.recent';
export const CHANGES_WINDOW_MINUTES = 60;
export const CHANGES_MARGIN_MINUTES = 5;
export const WRITE_PAGES = 5;
export const RESOURCE_PAGES = 2;
export const MAX_RESOURCE_LOOKUPS = 6;
/** Changes listed at most (newest first). */
export const MAX_CHANGES = 50;

export type ResourceType = 'ecs-service' | 'task-definition' | 'target-group' | 'listener' | 'load-balancer' | 'security-group' | 'aurora-cluster' | 'codedeploy-application';

export interface Change {
  /** ISO. */
  at: string;
  /** A person's name or the role / service that made the change (`whoMadeIt`). */
  who: string;
  /** CloudTrail's userIdentity.type: IAMUser, AssumedRole, Root, AWSService, … */
  userType: string | null;
  eventName: string;
  eventSource: string;
  resourceType: ResourceType;
  resourceName: string;
  /** e.g. `alice@example.com UpdateService on ecs-service prod/checkout (desiredCount=2)`. */
  summary: string;
  /** Made by an AWS service, a service role or a CI/CD identity (best effort from userIdentity and the user agent). */
  byAutomation: boolean;
  /** An UpdateService that sets a task definition, or a CodeDeploy CreateDeployment: what deploy.recent reports. */
  isDeployment: boolean;
  eventId: string;
  link: string | null;
}

export interface RecentChangesOutput {
  changes: Change[];
  /** The window read, ISO. */
  from: string;
  to: string;
  summary: string;
  /** Each LookupEvents lookup: what it asked, pages, events, whether it was cut short. */
  lookups: { key: TrailLookupKey; value: string; pages: number; events: number; truncated: boolean }[];
  /** Some lookup was cut short: changes may be missing. */
  truncated: boolean;
  /** Relevant changes beyond MAX_CHANGES, not listed. */
  omitted: number;
}

export interface RecentChangesParams {
  onset: Date;
  windowMinutes: number;
  marginMinutes: number;
  cluster: string | null;
  service: string | null;
  taskDefinitionFamily: string | null;
  loadBalancer: string | null;
  targetGroups: string[];
  securityGroups: string[];
  auroraCluster: string | null;
  codedeployApplication: string | null;
}

export function recentChangesAction(cloudtrail: CloudTrailAdapter): Action {
  return {
    id: CHANGES_RECENT_ID,
    mutating: false,
    description:
      'Recent changes: CloudTrail write events on the service’s resources (ECS service and task definition, target groups, listeners, load balancer, security groups, Aurora cluster) in the window before the onset: who, when, what.',
    iam: ['cloudtrail:LookupEvents'],
    plan: (params) => {
      const p = recentChangesParams(params);
      return { summary: `look up CloudTrail write events on ${resourceTargets(p).length} resources from ${windowOf(p).start.toISOString()} to ${windowOf(p).end.toISOString()}` };
    },
    async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const p = recentChangesParams(params);
      const window = windowOf(p);
      const lookups: { key: TrailLookupKey; value: string; maxPages: number }[] = [
        { key: 'ReadOnly', value: 'false', maxPages: WRITE_PAGES },
        ...lookupNames(p).map((value) => ({ key: 'ResourceName' as const, value, maxPages: RESOURCE_PAGES })),
      ];
      const [reads, region] = await Promise.all([
        Promise.all(lookups.map((l) => cloudtrail.lookupEvents({ key: l.key, value: l.value }, window, { maxPages: l.maxPages }, { abortSignal: ctx.signal }))),
        cloudtrail.region(),
      ]);
      const output = recentChangesReport(p, window, lookups.map((l, i) => ({ key: l.key, value: l.value, read: reads[i] })), region);
      return { output: output as unknown as Record<string, unknown>, summary: output.summary };
    },
  };
}

function windowOf(p: RecentChangesParams): { start: Date; end: Date } {
  return { start: new Date(p.onset.getTime() - p.windowMinutes * 60_000), end: new Date(p.onset.getTime() + p.marginMinutes * 60_000) };
}

const LB_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/((?:app|net|gwy)\/([A-Za-z0-9-]{1,32})\/([0-9a-f]+))$/;
const TG_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/([A-Za-z0-9-]{1,32})\/[0-9a-f]+$/;
const SG_ID = /^sg-[0-9a-f]{8,17}$/;

/** `with`, checked. Throws PermanentActionError naming what is wrong. */
export function recentChangesParams(params: Record<string, unknown>): RecentChangesParams {
  const fail = (message: string): never => {
    throw new PermanentActionError(`${CHANGES_RECENT_ID}: ${message}`);
  };
  const onset = typeof params.onset === 'string' ? new Date(params.onset) : null;
  if (!onset || Number.isNaN(onset.getTime())) fail(`"onset" must be an ISO time, got ${JSON.stringify(params.onset) ?? 'nothing'}`);
  const number = (key: string, fallback: number, min: number, max: number): number => {
    const v = params[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) return fail(`"${key}" must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
    return v;
  };
  const optional = (key: string): string | null => {
    const v = params[key];
    if (v === undefined || v === null || v === '') return null;
    if (typeof v !== 'string') return fail(`"${key}" must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const list = (key: string, pattern: RegExp, what: string): string[] => {
    const v = params[key] ?? [];
    if (!Array.isArray(v)) return fail(`"${key}" must be a list, got ${JSON.stringify(v)}`);
    return [
      ...new Set(
        (v as unknown[]).map((x) => {
          if (typeof x !== 'string' || !pattern.test(x)) return fail(`"${key}": not ${what}: ${JSON.stringify(x) ?? String(x)}`);
          return x;
        }),
      ),
    ];
  };
  const loadBalancer = optional('load_balancer');
  if (loadBalancer !== null && !LB_ARN.test(loadBalancer)) fail(`"load_balancer" must be a load balancer ARN, got ${JSON.stringify(loadBalancer)}`);
  const p: RecentChangesParams = {
    onset: onset!,
    windowMinutes: number('window_minutes', CHANGES_WINDOW_MINUTES, 1, 1440),
    marginMinutes: number('margin_minutes', CHANGES_MARGIN_MINUTES, 0, 60),
    cluster: optional('cluster'),
    service: optional('service'),
    taskDefinitionFamily: optional('task_definition_family'),
    loadBalancer,
    targetGroups: list('target_groups', TG_ARN, 'a target group ARN'),
    securityGroups: list('security_groups', SG_ID, 'a security group id (sg-…)'),
    auroraCluster: optional('aurora_cluster'),
    codedeployApplication: optional('codedeploy_application'),
  };
  if ((p.cluster === null) !== (p.service === null)) fail('"cluster" and "service" go together');
  if (resourceTargets(p).length === 0) fail('no resources to look for: give "cluster" and "service", "load_balancer", "target_groups", "security_groups" or "aurora_cluster"');
  return p;
}

/** One resource and the strings that identify it in a CloudTrail record. */
export interface ResourceTarget {
  type: ResourceType;
  /** What the change list shows. */
  name: string;
  /** Exact identifiers (ARNs, ids, names) to find in the record's resources and request parameters. */
  ids: string[];
  /** Identifier prefixes (a listener's ARN starts with its load balancer's). */
  prefixes: string[];
}

/** The resources of `with` and how each is recognised. Pure. */
export function resourceTargets(p: RecentChangesParams): ResourceTarget[] {
  const targets: ResourceTarget[] = [];
  if (p.cluster && p.service) {
    targets.push({ type: 'ecs-service', name: `${p.cluster}/${p.service}`, ids: [`service/${p.cluster}/${p.service}`], prefixes: [] });
  }
  if (p.taskDefinitionFamily) targets.push({ type: 'task-definition', name: p.taskDefinitionFamily, ids: [], prefixes: [`task-definition/${p.taskDefinitionFamily}:`] });
  if (p.loadBalancer) {
    const [, path, name] = LB_ARN.exec(p.loadBalancer)!;
    targets.push({ type: 'load-balancer', name, ids: [p.loadBalancer], prefixes: [] });
    // Listener and rule ARNs: …:listener/app/<name>/<id>/<listener id>, …:listener-rule/app/<name>/<id>/…
    const arnBase = p.loadBalancer.slice(0, p.loadBalancer.indexOf(':loadbalancer/'));
    targets.push({ type: 'listener', name: `${name} listeners`, ids: [], prefixes: [`${arnBase}:listener/${path}/`, `${arnBase}:listener-rule/${path}/`] });
  }
  for (const arn of p.targetGroups) targets.push({ type: 'target-group', name: TG_ARN.exec(arn)![1], ids: [arn], prefixes: [] });
  for (const sg of p.securityGroups) targets.push({ type: 'security-group', name: sg, ids: [sg], prefixes: [] });
  if (p.auroraCluster) targets.push({ type: 'aurora-cluster', name: p.auroraCluster, ids: [p.auroraCluster, `cluster:${p.auroraCluster}`], prefixes: [] });
  if (p.codedeployApplication) targets.push({ type: 'codedeploy-application', name: p.codedeployApplication, ids: [p.codedeployApplication], prefixes: [] });
  return targets;
}

/** The ResourceName lookups: the resources CloudTrail names most reliably, at most MAX_RESOURCE_LOOKUPS. Pure. */
export function lookupNames(p: RecentChangesParams): string[] {
  return [
    ...(p.cluster && p.service ? [p.service] : []),
    ...(p.loadBalancer ? [p.loadBalancer] : []),
    ...p.targetGroups,
    ...(p.auroraCluster ? [p.auroraCluster] : []),
    ...p.securityGroups,
  ].slice(0, MAX_RESOURCE_LOOKUPS);
}

/**
 * The resource an event changed, or null. ECS names a service by `cluster` + `service` (a name or
 * an ARN) in its request; other services by ARN or id, in `resources` or anywhere in the request
 * parameters. Pure.
 */
export function matchResource(event: TrailEvent, targets: readonly ResourceTarget[]): ResourceTarget | null {
  const req = event.requestParameters ?? {};
  const ecs = targets.find((t) => t.type === 'ecs-service');
  if (ecs && event.eventSource === 'ecs.amazonaws.com') {
    const [cluster, service] = ecs.name.split('/');
    const svc = typeof req.service === 'string' ? req.service : typeof req.serviceName === 'string' ? req.serviceName : null;
    const cl = typeof req.cluster === 'string' ? req.cluster : 'default';
    const lastPart = (s: string) => s.split('/').at(-1);
    if (svc && lastPart(svc) === service && lastPart(cl) === cluster) return ecs;
  }
  const strings = [...event.resources.map((r) => r.name), ...stringsIn(req)];
  for (const t of targets) {
    if (t.ids.some((id) => strings.some((s) => s === id || s.endsWith(`/${id}`) || s.endsWith(`:${id}`)))) return t;
    if (t.prefixes.some((prefix) => strings.some((s) => s.startsWith(prefix) || s.includes(`:${prefix}`)))) return t;
  }
  return null;
}

function stringsIn(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 6) return out;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out, depth + 1);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) stringsIn(v, out, depth + 1);
  return out;
}

const AUTOMATION = /\b(?:ci|cd|cicd|deploy(?:er|ment)?|pipeline|github|gitlab|jenkins|circleci|buildkite|codebuild|codepipeline|terraform|cloudformation|cdk|spinnaker|argo|automation|bot|autoscaling)\b/i;

/** Who made the change, for people: the session name of an assumed role (often the person), else the user, else the role or service. Pure. */
export function whoMadeIt(event: TrailEvent): string {
  const id = event.identity;
  if (!id) return event.username ?? 'unknown';
  if (id.type === 'Root') return 'root';
  if (id.type === 'AWSService') return id.invokedBy ?? 'an AWS service';
  if (id.type === 'AssumedRole') {
    const session = id.principalId?.split(':')[1] ?? id.arn?.split('/').at(-1) ?? null;
    const role = id.sessionIssuer?.userName ?? id.arn?.split('/')[1] ?? null;
    if (session && role) return `${session} (role ${role})`;
    return session ?? role ?? event.username ?? 'an assumed role';
  }
  return id.userName ?? event.username ?? id.arn ?? 'unknown';
}

/** Made by automation: an AWS service, a call an AWS service made for someone, a service-linked role, or a CI/CD-looking role or client. Pure. */
export function isByAutomation(event: TrailEvent): boolean {
  const id = event.identity;
  if (id?.type === 'AWSService' || id?.invokedBy) return true;
  const issuer = id?.sessionIssuer?.arn ?? '';
  if (/:role\/aws-service-role\//.test(issuer)) return true;
  const names = [id?.sessionIssuer?.userName, id?.userName, event.username].filter((n): n is string => typeof n === 'string').join(' ').replace(/[-_.]/g, ' ');
  if (AUTOMATION.test(names)) return true;
  return /\b(?:terraform|aws-cdk|cloudformation|codepipeline|codebuild|aws-internal)\b/i.test(event.userAgent ?? '');
}

/** An UpdateService that sets a task definition, or a CodeDeploy deployment: a deployment, which deploy.recent covers. Pure. */
export function isDeploymentEvent(event: TrailEvent): boolean {
  if (event.eventSource === 'codedeploy.amazonaws.com') return event.eventName === 'CreateDeployment';
  if (event.eventSource === 'ecs.amazonaws.com') {
    if (event.eventName === 'CreateService') return false;
    return (event.eventName === 'UpdateService' && typeof event.requestParameters?.taskDefinition === 'string') || event.eventName === 'CreateTaskSet' || event.eventName === 'UpdateServicePrimaryTaskSet';
  }
  return false;
}

/** Request parameters worth showing in a summary (not the identifiers the change is already named by). */
const DETAIL_SKIP = new Set(['cluster', 'service', 'serviceName', 'targetGroupArn', 'loadBalancerArn', 'listenerArn', 'dBClusterIdentifier', 'groupId', 'clientToken']);

function details(event: TrailEvent): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(event.requestParameters ?? {})) {
    if (DETAIL_SKIP.has(k) || v === null || v === undefined) continue;
    const text = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
    parts.push(`${k}=${text.length > 60 ? `${text.slice(0, 59)}…` : text}`);
    if (parts.length === 3) break;
  }
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** The output for what the lookups read. Pure. */
export function recentChangesReport(
  p: RecentChangesParams,
  window: { start: Date; end: Date },
  reads: readonly { key: TrailLookupKey; value: string; read: TrailLookup }[],
  region: string | null,
): RecentChangesOutput {
  const targets = resourceTargets(p);
  const byId = new Map<string, TrailEvent>();
  for (const { read } of reads) for (const e of read.events) if (!byId.has(e.eventId)) byId.set(e.eventId, e);
  const writes = [...byId.values()].filter((e) => e.readOnly !== true && e.errorCode === null);
  // A task definition family the service was moved to in the window: its registrations matter too.
  const familyTargets = [...targets];
  const ecs = targets.find((t) => t.type === 'ecs-service');
  if (ecs && !p.taskDefinitionFamily) {
    for (const e of writes) {
      const td = e.requestParameters?.taskDefinition;
      if (typeof td !== 'string' || matchResource(e, [ecs]) === null) continue;
      const family = /(?:task-definition\/)?([A-Za-z0-9_-]+)(?::\d+)?$/.exec(td)?.[1];
      if (family && !familyTargets.some((t) => t.type === 'task-definition' && t.name === family)) {
        familyTargets.push({ type: 'task-definition', name: family, ids: [], prefixes: [`task-definition/${family}:`] });
      }
    }
  }
  const matched = writes.flatMap((e) => {
    let target = matchResource(e, familyTargets);
    if (!target && e.eventName === 'RegisterTaskDefinition') {
      const family = e.requestParameters?.family;
      target = familyTargets.find((t) => t.type === 'task-definition' && t.name === family) ?? null;
    }
    return target ? [{ e, target }] : [];
  });
  matched.sort((a, b) => b.e.eventTime.localeCompare(a.e.eventTime));
  const changes: Change[] = matched.slice(0, MAX_CHANGES).map(({ e, target }) => {
    const who = whoMadeIt(e);
    return {
      at: e.eventTime,
      who,
      userType: e.identity?.type ?? null,
      eventName: e.eventName,
      eventSource: e.eventSource,
      resourceType: target.type,
      resourceName: target.name,
      summary: `${who} ${e.eventName} on ${target.type} ${target.name}${details(e)}`,
      byAutomation: isByAutomation(e),
      isDeployment: isDeploymentEvent(e),
      eventId: e.eventId,
      link: cloudTrailEventLink(region, e.eventId),
    };
  });
  const truncated = reads.some((r) => r.read.truncated);
  const output: RecentChangesOutput = {
    changes,
    from: window.start.toISOString(),
    to: window.end.toISOString(),
    summary: '',
    lookups: reads.map((r) => ({ key: r.key, value: r.value, pages: r.read.pages, events: r.read.events.length, truncated: r.read.truncated })),
    truncated,
    omitted: Math.max(0, matched.length - MAX_CHANGES),
  };
  output.summary = recentChangesSummary(output, p.onset);
  return output;
}

/** e.g. `3 changes in the 60 min before the onset: alice (role Admin) ModifyTargetGroup on target-group checkout-blue 12 min before; …`. Pure. */
export function recentChangesSummary(output: Pick<RecentChangesOutput, 'changes' | 'from' | 'to' | 'truncated' | 'omitted'>, onset: Date): string {
  const minutes = Math.round((onset.getTime() - Date.parse(output.from)) / 60_000);
  const cut = output.truncated ? ' (CloudTrail lookups cut short: more may exist)' : '';
  if (output.changes.length === 0) return `no changes to the service's resources in the ${minutes} min before the onset${cut}`;
  const people = output.changes.filter((c) => !c.byAutomation && !c.isDeployment);
  const shown = output.changes.slice(0, 3).map((c) => {
    const delta = Math.round((onset.getTime() - Date.parse(c.at)) / 60_000);
    const when = delta >= 0 ? `${delta} min before` : `${-delta} min after`;
    return `${c.who} ${c.eventName} on ${c.resourceType} ${c.resourceName} ${when}`;
  });
  const total = output.changes.length + output.omitted;
  return `${total} change${total === 1 ? '' : 's'} in the ${minutes} min before the onset (${people.length} by people, not deployments)${cut}: ${shown.join('; ')}`;
}
