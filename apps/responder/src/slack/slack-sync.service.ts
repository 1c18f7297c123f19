import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { renderRca } from '@responder/rca';
import {
  type IncidentView,
  type RunView,
  type SlackMessage,
  type StakeholderPhase,
  type StepView,
  SlackWeb,
  approvalDecidedMessage,
  approvalReminderMessage,
  approvalRequestMessage,
  approvalSupersededMessage,
  approvalSupersededNotice,
  approvalTimedOutMessage,
  findingMessage,
  goalMissedMessage,
  incidentMessage,
  lostIncidentMessage,
  resolutionMessage,
  stakeholderMessage,
} from '@responder/slack';
import { IncidentStore, RunStore, SlackMessageStore } from '@responder/store';
import type { AppConfig } from '../config/config';
import { loadRcaInput } from '../rca/load-rca-input';
import { APP_CONFIG } from '../tokens';
import { IncidentViewLoader } from './incident-view.loader';
import { RetryLater, type SlackJob, SlackOutbox } from './slack-outbox';

/** How long a record of what Slack accepted is tried again before the job fails (see SlackSync.keep). */
const KEEP_MS = 20_000;
/** Incident threads remembered in memory (see SlackSync.threads). */
const THREADS = 10_000;
const FINISHED = new Set(['succeeded', 'dry-run', 'failed']);
const DECIDED = new Set(['queued', 'running', 'succeeded', 'dry-run', 'failed', 'rejected', 'timed_out', 'cancelled']);

/** The approval request posted for a step: where, for which plan, and what it last showed. */
interface PostedApproval {
  ts: string;
  paramsHash: string;
  plan: string;
  digest: string;
  /** Set once the request was marked superseded (its plan went stale before the call): why. */
  superseded?: string;
}

/**
 * Brings Slack in line with an incident's state: one message per incident (posted once, then
 * updated in place), findings and approval requests in its thread, stakeholder updates, the
 * resolution summary and the RCA draft. What was posted is recorded in the store's Slack message
 * ledger (SlackMessageStore) right after Slack accepts it, so a sync run again (a retry, the next change) updates instead of
 * posting twice. Syncs of one incident never run concurrently (SlackOutbox.sync).
 */
@Injectable()
export class SlackSync {
  private readonly logger = new Logger('SlackSync');
  /** Services already warned about (once per process, not once per change). */
  private readonly noChannel = new Set<string>();
  /**
   * The threads of the incidents this process synced last (at most THREADS), kept out of Redis:
   * the one place to find them when Redis loses an incident with its Slack record.
   */
  private readonly threads = new Map<string, { channel: string; threadTs: string }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ledger: SlackMessageStore,
    private readonly views: IncidentViewLoader,
    private readonly web: SlackWeb,
    private readonly outbox: SlackOutbox,
    private readonly incidents: IncidentStore,
    private readonly runs: RunStore,
  ) {}

  async process(job: SlackJob): Promise<void> {
    switch (job.name) {
      case 'sync':
        return this.sync(job.data.incidentId);
      case 'remind':
        return this.remind(job.data);
      case 'ephemeral':
        await this.web.postEphemeral(job.data);
        return;
      case 'lost':
        await this.web.postMessage({ channel: job.data.channel, threadTs: job.data.threadTs, ...lostIncidentMessage(job.data.incidentId) });
        return;
    }
  }

  /** The Slack thread of an incident this process synced, if it still remembers it. */
  threadOf(incidentId: string): { channel: string; threadTs: string } | undefined {
    return this.threads.get(incidentId);
  }

  private rememberThread(incidentId: string, channel: string, threadTs: string): void {
    this.threads.delete(incidentId);
    this.threads.set(incidentId, { channel, threadTs });
    if (this.threads.size > THREADS) this.threads.delete(this.threads.keys().next().value!);
  }

  async sync(incidentId: string): Promise<void> {
    // What was posted is read before the incident: Redis restarted empty in between (or failed over
    // to a replica that lagged) then shows no incident, and nothing is posted. Read after it, an
    // empty ledger next to the incident read before the restart posted its message a second time.
    const posted = await this.ledger.posted(incidentId);
    const view = await this.views.load(incidentId);
    if (!view) return;
    const target = this.views.channelOf(view.service);
    if (!target) {
      if (!this.noChannel.has(view.service ?? '')) this.logger.warn(`service ${view.service ?? '(unrouted)'} has no Slack channel (set SLACK_CHANNEL or the service's slack.channel): its incidents are not posted`);
      this.noChannel.add(view.service ?? '');
      return;
    }
    const record = async (field: string, value: string) => {
      posted[field] = value;
      await this.keep(() => this.ledger.record(incidentId, { [field]: value }));
    };

    // The incident message: the thread everything else replies in.
    const main = incidentMessage(view);
    const mainDigest = digest(main);
    if (!posted.main) {
      const { channel, ts } = await this.web.postMessage({ channel: target, ...main });
      await this.keep(() => this.ledger.record(incidentId, { channel, main: ts, 'main.digest': mainDigest }));
      Object.assign(posted, { channel, main: ts, 'main.digest': mainDigest });
    } else if (posted['main.digest'] !== mainDigest) {
      await this.web.updateMessage({ channel: posted.channel, ts: posted.main, ...main });
      await record('main.digest', mainDigest);
    }
    const thread = { channel: posted.channel, threadTs: posted.main };
    this.rememberThread(incidentId, thread.channel, thread.threadTs);

    for (const run of view.runs) {
      for (const step of run.steps) {
        if (step.mutating) await this.syncApproval(view, run, step, thread, posted, record);
        // Loud: the call was made and did not work (its goal was missed); the approvers are pinged again.
        if (step.goal === 'missed' && !posted[`goal-missed:${run.id}:${step.id}`]) {
          await record(`goal-missed:${run.id}:${step.id}`, (await this.web.postMessage({ ...thread, ...goalMissedMessage(view, run, step) })).ts);
        }
        else if (FINISHED.has(step.status) && !posted[`finding:${run.id}:${step.id}`]) {
          const finding = findingMessage(view, run, step);
          if (finding) await record(`finding:${run.id}:${step.id}`, (await this.web.postMessage({ ...thread, ...finding })).ts);
        }
      }
    }

    await this.syncStakeholders(view, posted, record);

    if (view.status === 'resolved') {
      if (!posted.resolution) await record('resolution', (await this.web.postMessage({ ...thread, ...resolutionMessage(view) })).ts);
      await this.syncRca(view, thread, posted, record);
    }
  }

  /**
   * The RCA draft in the thread: uploaded at resolution, and again as a new version whenever the
   * document changes (a run that finishes after the alarm cleared, a note, an approval). The draft is
   * dated by its last timeline entry, so the same incident renders the same bytes and a sync with
   * nothing new uploads nothing.
   */
  private async syncRca(
    view: IncidentView,
    thread: { channel: string; threadTs: string },
    posted: Record<string, string>,
    record: (field: string, value: string) => Promise<void>,
  ): Promise<void> {
    // A new version waits for the runs still going, so that a run finishing after the alarm cleared
    // gives one new version, not one per step.
    if (posted.rca && view.runs.some((r) => r.status === 'running')) return;
    const input = await loadRcaInput(this.incidents, this.runs, view.id);
    if (!input) return;
    const content = renderRca(input);
    const contentDigest = createHash('sha256').update(content).digest('hex');
    if (posted['rca.digest'] === contentDigest) return;
    if (posted.rca && !posted['rca.digest']) {
      // Uploaded before versions were tracked: take that upload as the current version rather than
      // posting the same draft again after an upgrade.
      await record('rca.digest', contentDigest);
      return;
    }
    const version = Number(posted['rca.version'] ?? (posted.rca ? '1' : '0')) + 1;
    await this.web.uploadFile({
      ...thread,
      filename: `rca-${view.id}.md`,
      title: `RCA draft: ${view.title}${version > 1 ? ` (version ${version})` : ''}`,
      content,
      comment:
        version > 1
          ? `The RCA draft changed since the last version (version ${version}); this one replaces it.`
          : 'The RCA draft (to be checked): timeline, findings and actions from this incident.',
    });
    await record('rca', 'uploaded');
    await record('rca.version', String(version));
    await record('rca.digest', contentDigest);
  }

  /**
   * A mutating step: its approval request (with buttons) while it waits, replaced by the decision
   * once decided; a new request when the plan changed (the old one says it was superseded); one
   * message for steps that needed no approval once they finished.
   */
  private async syncApproval(
    view: IncidentView,
    run: RunView,
    step: StepView,
    thread: { channel: string; threadTs: string },
    posted: Record<string, string>,
    record: (field: string, value: string) => Promise<void>,
  ): Promise<void> {
    const field = `approval:${run.id}:${step.id}`;
    const previous = posted[field] ? (JSON.parse(posted[field]) as PostedApproval) : null;
    // Its plan went stale before the call and is being made again: the request can no longer be
    // approved (it says why), and the approvers are told in the thread; a new request follows.
    if (step.status === 'pending' && step.replanReason && previous && previous.superseded === undefined) {
      await this.web.updateMessage({ channel: thread.channel, ts: previous.ts, ...approvalSupersededMessage(view, run, step, previous.plan, step.replanReason) });
      await record(field, JSON.stringify({ ...previous, superseded: step.replanReason } satisfies PostedApproval));
      const notice = `superseded:${run.id}:${step.id}:${step.replans ?? 0}`;
      if (!posted[notice]) await record(notice, (await this.web.postMessage({ ...thread, ...approvalSupersededNotice(view, run, step, step.replanReason) })).ts);
      return;
    }
    if (step.status === 'awaiting_approval' && step.paramsHash) {
      const request = approvalRequestMessage(view, run, step);
      const replaced = previous !== null && (previous.paramsHash !== step.paramsHash || previous.superseded !== undefined);
      if (previous && replaced && previous.superseded === undefined) {
        await this.web.updateMessage({ channel: thread.channel, ts: previous.ts, ...approvalSupersededMessage(view, run, step, previous.plan) });
      }
      if (!previous || replaced) {
        const { ts } = await this.web.postMessage({ ...thread, ...request });
        await record(field, JSON.stringify({ ts, paramsHash: step.paramsHash, plan: step.plan ?? '', digest: digest(request) } satisfies PostedApproval));
        await this.outbox.remind({ incidentId: view.id, runId: run.id, step: step.id, paramsHash: step.paramsHash }, this.config.slack!.reminderSeconds * 1000);
      } else if (previous.digest !== digest(request)) {
        // Two-person steps: the first approval shows on the request.
        await this.web.updateMessage({ channel: thread.channel, ts: previous.ts, ...request });
        await record(field, JSON.stringify({ ...previous, digest: digest(request) }));
      }
      return;
    }
    if (!DECIDED.has(step.status)) return;
    const decided = approvalDecidedMessage(view, run, step);
    if (previous) {
      if (previous.digest !== digest(decided)) {
        await this.web.updateMessage({ channel: thread.channel, ts: previous.ts, ...decided });
        await record(field, JSON.stringify({ ...previous, digest: digest(decided) }));
      }
      if (step.status === 'timed_out' && !posted[`timedout:${run.id}:${step.id}`]) {
        await record(`timedout:${run.id}:${step.id}`, (await this.web.postMessage({ ...thread, ...approvalTimedOutMessage(view, run, step) })).ts);
      }
      return;
    }
    // No request was shown (a policy granted it, or it needed none): one message once it is done.
    if (FINISHED.has(step.status) || step.status === 'rejected') {
      const { ts } = await this.web.postMessage({ ...thread, ...decided });
      await record(field, JSON.stringify({ ts, paramsHash: step.paramsHash ?? '', plan: step.plan ?? '', digest: digest(decided) } satisfies PostedApproval));
    }
  }

  /** Plain-language updates for the service's stakeholder channel: opened, mitigated, resolved. */
  private async syncStakeholders(view: IncidentView, posted: Record<string, string>, record: (field: string, value: string) => Promise<void>): Promise<void> {
    const channel = this.views.stakeholderChannelOf(view.service);
    if (!channel) return;
    const minutes = this.config.slack!.stakeholderUpdateMinutes;
    const post = async (phase: StakeholderPhase) => {
      if (posted[`stakeholder:${phase}`]) return;
      await record(`stakeholder:${phase}`, (await this.web.postMessage({ channel, ...stakeholderMessage(view, phase, minutes) })).ts);
    };
    if (view.status === 'resolved') {
      // Resolved before anyone was told it opened (Slack was down): say only that it is over.
      await post('resolved');
      return;
    }
    await post('opened');
    // A mitigation that missed its goal is a setback, told as such; the incident is not "recovering" on its account.
    if (view.runs.some((r) => r.steps.some((s) => s.goal === 'missed'))) await post('setback');
    const mitigated = view.runs.some((r) => r.steps.some((s) => s.mutating && s.status === 'succeeded' && !s.dryRun && s.goal !== 'missed'));
    if (mitigated) await post('mitigated');
  }

  /** Re-pings the approvers once, if the step still waits for the same plan. */
  private async remind(data: { incidentId: string; runId: string; step: string; paramsHash: string }): Promise<void> {
    const view = await this.views.load(data.incidentId);
    const run = view?.runs.find((r) => r.id === data.runId);
    const step = run?.steps.find((s) => s.id === data.step);
    if (!view || !run || !step || step.status !== 'awaiting_approval' || step.paramsHash !== data.paramsHash) return;
    const field = `reminder:${run.id}:${step.id}:${data.paramsHash}`;
    const [channel, main, done] = await this.ledger.fields(data.incidentId, 'channel', 'main', field);
    if (done) return;
    if (!channel || !main) throw new RetryLater(5000, `incident ${data.incidentId} has no Slack message yet`);
    const { ts } = await this.web.postMessage({ channel, threadTs: main, ...approvalReminderMessage(view, run, step) });
    await this.keep(() => this.ledger.record(data.incidentId, { [field]: ts }));
  }

  /**
   * Records what Slack has just accepted. Slack cannot take a post back and has no idempotency key,
   * so a record that fails (Redis away for a moment: a restart, a failover) is tried again until
   * Redis answers, for up to about KEEP_MS, rather than failing the job: its retry would post again.
   */
  private async keep(write: () => Promise<unknown>): Promise<void> {
    const deadline = Date.now() + KEEP_MS;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        await write();
        return;
      } catch (err) {
        if (Date.now() + delay > deadline) throw err;
        this.logger.warn(`recording a Slack message Slack accepted failed (${(err as Error).message}); again in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

function digest(message: SlackMessage): string {
  return createHash('sha1').update(JSON.stringify(message)).digest('hex');
}
