/**
 * Links to the AWS console page that shows a piece of evidence, built for the region. Pure: no SDK,
 * no I/O. Every function returns null without a region, so evidence gathered with an unknown region
 * simply has no link.
 *
 * The CloudWatch console keeps its state in the URL fragment as JSURL (`~(key~value)`, strings
 * `'…` with characters outside [A-Za-z0-9_.-] written `*hh`), which `jsurl()` writes; Logs Insights
 * wraps that once more in a URL-encoded `?queryDetail=` whose `%` are written `$`.
 */

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;

/** The console's origin for the region: its own partition's domain for China and GovCloud. */
function base(region: string | null | undefined): string | null {
  if (!region || !REGION.test(region)) return null;
  if (region.startsWith('cn-')) return 'https://console.amazonaws.cn';
  if (region.startsWith('us-gov-')) return 'https://console.amazonaws-us-gov.com';
  return `https://${region}.console.aws.amazon.com`;
}

const enc = encodeURIComponent;

/** JSURL (the encoding the CloudWatch console's URL fragments use). Pure. */
export function jsurl(value: unknown): string {
  if (value === null || value === undefined) return '~null';
  if (typeof value === 'number') return Number.isFinite(value) ? `~${value}` : '~null';
  if (typeof value === 'boolean') return `~${value}`;
  if (typeof value === 'string') return `~'${jsurlString(value)}`;
  if (Array.isArray(value)) return `~(${value.map((v) => jsurl(v)).join('') || '~'})`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `~(${entries.map(([k, v]) => `${jsurlString(k)}${jsurl(v)}`).join('~')})`;
}

function jsurlString(s: string): string {
  return s.replace(/[^\w.-]/g, (ch) => {
    if (ch === '$') return '!';
    const code = ch.charCodeAt(0);
    return code < 0x100 ? `*${code.toString(16).padStart(2, '0')}` : `**${code.toString(16).padStart(4, '0')}`;
  });
}

/** A target group's Targets tab (EC2 console). */
export function targetGroupLink(region: string | null | undefined, targetGroupArn: string): string | null {
  const b = base(region);
  return b && `${b}/ec2/home?region=${region}#TargetGroup:targetGroupArn=${targetGroupArn}`;
}

/** An ECS service's tab: `events` (default), `deployments`, `tasks`, `health`. */
export function ecsServiceLink(region: string | null | undefined, cluster: string, service: string, tab: 'events' | 'deployments' | 'tasks' | 'health' = 'events'): string | null {
  const b = base(region);
  return b && `${b}/ecs/v2/clusters/${enc(cluster)}/services/${enc(service)}/${tab}?region=${region}`;
}

/** One task (a stopped task keeps its page, with its stopped reason, for about an hour). */
export function ecsTaskLink(region: string | null | undefined, cluster: string, taskId: string): string | null {
  const b = base(region);
  return b && `${b}/ecs/v2/clusters/${enc(cluster)}/tasks/${enc(taskId)}/configuration?region=${region}`;
}

/** A task definition revision, from its ARN or `family:revision`. */
export function taskDefinitionLink(region: string | null | undefined, taskDefinition: string): string | null {
  const b = base(region);
  const m = /(?:task-definition\/)?([A-Za-z0-9_-]+):(\d+)$/.exec(taskDefinition);
  return b && m ? `${b}/ecs/v2/task-definitions/${m[1]}/${m[2]}?region=${region}` : null;
}

/** A CodeDeploy deployment. */
export function codeDeployDeploymentLink(region: string | null | undefined, deploymentId: string): string | null {
  const b = base(region);
  return b && `${b}/codesuite/codedeploy/deployments/${enc(deploymentId)}?region=${region}`;
}

/** An RDS / Aurora cluster. */
export function rdsClusterLink(region: string | null | undefined, cluster: string): string | null {
  const b = base(region);
  return b && `${b}/rds/home?region=${region}#database:id=${enc(cluster)};is-cluster=true`;
}

/** A CloudTrail event's detail page. */
export function cloudTrailEventLink(region: string | null | undefined, eventId: string): string | null {
  const b = base(region);
  return b && `${b}/cloudtrailv2/home?region=${region}#/events/${enc(eventId)}`;
}

export interface MetricLinkQuery {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  stat: string;
  period: number;
}

/** The metric graph of exactly this query over [start, end] (CloudWatch console, absolute time). */
export function metricGraphLink(region: string | null | undefined, query: MetricLinkQuery, window: { start: string; end: string }): string | null {
  const b = base(region);
  if (!b) return null;
  const metric = [query.namespace, query.name, ...Object.entries(query.dimensions).flat()];
  const graph = { metrics: [metric], view: 'timeSeries', stacked: false, region, stat: query.stat, period: query.period, start: window.start, end: window.end };
  return `${b}/cloudwatch/home?region=${region}#metricsV2:graph=${jsurl(graph)}`;
}

/** Logs Insights with this query over these groups and [start, end] (absolute time). */
export function logsInsightsLink(region: string | null | undefined, logGroups: readonly string[], query: string, window: { start: string; end: string }): string | null {
  const b = base(region);
  if (!b) return null;
  const detail = { end: window.end, start: window.start, timeType: 'ABSOLUTE', tz: 'UTC', editorString: query, source: [...logGroups] };
  const fragment = enc(`?queryDetail=${jsurl(detail)}`).replace(/%/g, '$');
  return `${b}/cloudwatch/home?region=${region}#logsV2:logs-insights${fragment}`;
}

/** A Logs Insights string literal: double quotes, with `\` and `"` escaped. */
export function insightsString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
