import type { ActionsBlock, Button } from '@slack/types';
import {
  approvalDecidedMessage,
  approvalReminderMessage,
  approvalRequestMessage,
  approvalSupersededMessage,
  approvalSupersededNotice,
  approvalTimedOutMessage,
} from './approval.message';
import { ALICE, BOB, INCIDENT_ID, NO_APPROVERS, PARAMS_HASH, RUN_ID, SECRETS, SECRET_TEXT, STEPS, makeRun, makeView, mrkdwnOf, textsOf } from '../../../../test/fixtures/slack/views';
import type { SlackMessage } from './format';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID, type StepView } from '../view';

const view = makeView();
const run = makeRun([]);

function buttons(message: SlackMessage): Button[] {
  return message.blocks.filter((b): b is ActionsBlock => b.type === 'actions').flatMap((b) => b.elements.filter((e): e is Button => e.type === 'button'));
}

describe('approvalRequestMessage', () => {
  it.each([
    ['one approver', STEPS.awaitingOne],
    ['two approvers, one so far', STEPS.awaitingTwo],
  ] as Array<[string, StepView]>)('renders a request needing %s', (_name, step) => {
    expect(approvalRequestMessage(view, run, step)).toMatchSnapshot();
  });

  it('renders a request in dry-run mode', () => {
    const message = approvalRequestMessage(makeView({ mode: 'dry-run' }), run, STEPS.awaitingOne);
    expect(message).toMatchSnapshot();
    expect(JSON.stringify(message)).toContain('Dry run: approving records the decision');
  });

  it('binds both buttons to the incident, run, step and exact params hash', () => {
    const message = approvalRequestMessage(view, run, STEPS.awaitingOne);
    const [approve, reject] = buttons(message);
    expect(approve).toMatchObject({ action_id: APPROVE_ACTION_ID, style: 'primary' });
    expect(approve.confirm).toBeDefined();
    expect(reject).toMatchObject({ action_id: REJECT_ACTION_ID, style: 'danger' });
    for (const b of [approve, reject]) {
      expect(JSON.parse(b.value!)).toEqual({ incidentId: INCIDENT_ID, runId: RUN_ID, step: 'scale-up', paramsHash: PARAMS_HASH });
    }
    const actions = message.blocks.find((b) => b.type === 'actions')!;
    expect(actions.block_id).toBe(`approval:scale-up:${PARAMS_HASH}`);
  });

  it('says exactly what it will do and who may approve', () => {
    const json = JSON.stringify(approvalRequestMessage(view, run, STEPS.awaitingTwo));
    expect(json).toContain('UpdateService prod/checkout desiredCount 4 → 8');
    expect(json).toContain('```{\\"cluster\\":\\"prod\\",\\"service\\":\\"checkout\\",\\"desiredCount\\":8}```');
    expect(json).toContain('<!subteam^S01ONCALL>, <@U01ALICE0> and <@U02BOB000>');
    expect(json).toContain('Needs two different approvers (1 of 2 so far: <@U01ALICE0>)');
  });

  it('says why people are asked (the catalog\'s autonomy, a policy that does not hold)', () => {
    const why = 'autonomy ask for ecs.scale-up on service checkout (catalog): a person approves';
    expect(mrkdwnOf(approvalRequestMessage(view, run, { ...STEPS.awaitingOne, approvalWhy: why })).join("\n")).toContain(`*Why people decide*: ${why}`);
    expect(JSON.stringify(approvalRequestMessage(view, run, STEPS.awaitingOne))).not.toContain('Why people decide');
  });

  it('while paused: tells the approver an approved step is held, and once approved that it is held', () => {
    const paused = { by: BOB, at: '2026-11-22T18:15:00.000Z' };
    const request = mrkdwnOf(approvalRequestMessage(makeView({ paused }), run, STEPS.awaitingOne)).join('\n');
    expect(request).toContain(`Automation is paused (by <@${BOB}>): once approved, this step is held until \`/incident resume\`.`);
    const approved: StepView = { ...STEPS.grantedByPerson, status: 'queued', startedAt: undefined, finishedAt: undefined, summary: undefined };
    const decided = mrkdwnOf(approvalDecidedMessage(makeView({ paused }), run, approved)).join('\n');
    expect(decided).toContain(`Held: automation is paused (by <@${BOB}>); it runs after \`/incident resume\`.`);
    expect(decided).not.toContain('Queued to run');
    expect(mrkdwnOf(approvalDecidedMessage(view, run, approved)).join('\n')).toContain('Queued to run');
  });

  it('masks secrets in the plan and the params, in the buttons confirm text too', () => {
    const step = { ...STEPS.awaitingOne, plan: `set env ${SECRET_TEXT}`, params: { password: 'hunter2hunter2', token: 'xoxb-123456789012-abcdefABCDEF', note: SECRET_TEXT } };
    const json = JSON.stringify(approvalRequestMessage(view, run, step));
    for (const secret of SECRETS) expect(json).not.toContain(secret);
  });
});

describe('approvalDecidedMessage', () => {
  const decided: Array<[string, StepView]> = [
    ['granted by a person, done', STEPS.grantedByPerson],
    ['granted by two people, running', STEPS.grantedByTwo],
    ['granted by policy', STEPS.grantedByPolicy],
    ['rejected', STEPS.rejected],
    ['timed out', STEPS.timedOut],
    ['dry run', STEPS.dryRun],
    ['granted, then failed', STEPS.failedAfterApproval],
  ];

  it.each(decided)('renders a request %s', (_name, step) => {
    expect(approvalDecidedMessage(view, run, step)).toMatchSnapshot();
  });

  it.each(decided)('has no buttons once %s', (_name, step) => {
    const message = approvalDecidedMessage(view, run, step);
    expect(buttons(message)).toHaveLength(0);
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('names the decision and its author', () => {
    expect(JSON.stringify(approvalDecidedMessage(view, run, STEPS.grantedByTwo))).toContain(`*Approved* by <@${ALICE}> and <@${BOB}>`);
    expect(JSON.stringify(approvalDecidedMessage(view, run, STEPS.grantedByPolicy))).toContain('*Auto-approved by policy _business-hours-scale-up_*');
    expect(JSON.stringify(approvalDecidedMessage(view, run, STEPS.rejected))).toContain(`*Rejected* by <@${BOB}>: traffic is already dropping`);
    expect(JSON.stringify(approvalDecidedMessage(view, run, STEPS.timedOut))).toContain('*Timed out* with no decision after 30m 00s');
    expect(JSON.stringify(approvalDecidedMessage(view, run, STEPS.dryRun))).toContain('Dry run: not called.');
    expect(JSON.stringify(approvalDecidedMessage(view, run, STEPS.failedAfterApproval))).toContain('Failed in 1s: ThrottlingException');
  });

  it('says through which channel each person approved, in the decision and in the progress of a two-person step', () => {
    const approvals: StepView['approvals'] = [
      { by: ALICE, at: '2026-11-22T18:12:00.000Z', via: 'slack' },
      { by: 'bob', at: '2026-11-22T18:13:30.000Z', via: 'token' },
    ];
    expect(JSON.stringify(approvalDecidedMessage(view, run, { ...STEPS.grantedByTwo, approvals }))).toContain(`*Approved* by <@${ALICE}> (in Slack) and bob (API, personal token)`);
    const waiting = { ...STEPS.awaitingTwo, approvals: [{ by: ALICE, at: '2026-11-22T18:12:00.000Z', via: 'oidc' as const }] };
    expect(JSON.stringify(approvalRequestMessage(view, run, waiting))).toContain(`1 of 2 so far: <@${ALICE}> (API, OIDC)`);
  });
});

describe('approvalSupersededMessage', () => {
  it('shows the old plan without buttons and points to the new request', () => {
    const step = { ...STEPS.awaitingOne, plan: 'UpdateService prod/checkout desiredCount 6 → 12', paramsHash: 'ffff000011112222' };
    const message = approvalSupersededMessage(view, run, step, 'UpdateService prod/checkout desiredCount 4 → 8');
    expect(message).toMatchSnapshot();
    expect(buttons(message)).toHaveLength(0);
    const json = JSON.stringify(message);
    expect(json).toContain('4 → 8');
    expect(json).not.toContain('6 → 12');
    expect(json).toContain('The plan changed since this was posted');
  });
});

describe('a request superseded because the world changed before the call', () => {
  const reason = "prod/checkout now runs checkout:43, not the plan's checkout:42 (deployed since the plan was made)";
  const replanning = { ...STEPS.awaitingOne, status: 'pending' as const, replans: 1, replanReason: reason };

  it('the old request says superseded and why, without buttons', () => {
    const message = approvalSupersededMessage(view, run, replanning, 'roll back prod/checkout from checkout:42 to checkout:41', reason);
    expect(message).toMatchSnapshot();
    expect(buttons(message)).toHaveLength(0);
    expect(JSON.stringify(message)).toContain(`*Superseded*: ${reason}`);
    expect(message.text).toBe(`Superseded: ${reason}`);
  });

  it('the approvers are told in the thread', () => {
    const message = approvalSupersededNotice(view, run, replanning, reason);
    expect(message).toMatchSnapshot();
    expect(mrkdwnOf(message).join(' ')).toContain('was *superseded*');
    expect(JSON.stringify(message)).toMatch(/<!subteam\^|<@U/);
  });

  it('the new request says it replaces a superseded one', () => {
    const message = approvalRequestMessage(view, run, { ...STEPS.awaitingOne, replans: 1, replanReason: reason });
    expect(JSON.stringify(message)).toContain('A new plan: the previous request was superseded');
    expect(buttons(message)).toHaveLength(2);
  });
});

describe('approvalReminderMessage', () => {
  it('pings the user groups and says how long it has waited', () => {
    const message = approvalReminderMessage(view, run, STEPS.awaitingTwo);
    expect(message).toMatchSnapshot();
    const json = JSON.stringify(message);
    expect(json).toContain('<!subteam^S01ONCALL>');
    expect(json).not.toContain('<@U02BOB000>');
    expect(json).toContain('has waited 15m 10s');
    expect(json).toContain('times out');
  });

  it('pings the users when there is no group', () => {
    const step = { ...STEPS.awaitingOne, approvers: { slackUsers: [ALICE], slackUserGroups: [] } };
    expect(JSON.stringify(approvalReminderMessage(view, run, step))).toContain(`<@${ALICE}>: \`scale-up\``);
  });

  it('pings nobody when the catalog names no approver', () => {
    const message = approvalReminderMessage(view, run, { ...STEPS.awaitingOne, approvers: NO_APPROVERS });
    expect(JSON.stringify(message)).not.toMatch(/<@|<!subteam/);
  });
});

describe('approvalTimedOutMessage', () => {
  it('says nothing was done', () => {
    const message = approvalTimedOutMessage(view, run, STEPS.timedOut);
    expect(message).toMatchSnapshot();
    expect(JSON.stringify(message)).toContain('was *not* run');
  });
});

describe('every approval message', () => {
  it('escapes markup and stays within Slack limits', () => {
    const step = { ...STEPS.awaitingTwo, plan: `<!channel> ${'p'.repeat(5000)}`, params: { blob: 'b'.repeat(10_000) }, reason: '<!here>' };
    const messages = [
      approvalRequestMessage(view, run, step),
      approvalDecidedMessage(view, run, { ...step, status: 'rejected', approval: 'rejected', approvedBy: BOB }),
      approvalSupersededMessage(view, run, step, `<!channel> ${'o'.repeat(5000)}`),
      approvalReminderMessage(view, run, step),
      approvalTimedOutMessage(view, run, step),
    ];
    for (const message of messages) {
      expect(message.blocks.length).toBeLessThanOrEqual(50);
      for (const text of textsOf(message)) expect(text.length).toBeLessThanOrEqual(3000);
      for (const text of mrkdwnOf(message)) expect(text).not.toMatch(/<!channel>|<!here>/);
    }
  });
});
