import { findingMessage } from './finding.message';
import { incidentMessage } from './incident.message';
import { SECRETS, SECRET_TEXT, STEPS, makeRun, makeStep, makeView, mrkdwnOf, textsOf } from '../../../../test/fixtures/slack/views';
import type { StepView } from '../view';

const FINISHED = '2026-11-22T18:06:00.000Z';
const deployLink = 'https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout/deployments?region=eu-west-1&tab=deployments';

const verdict = {
  cause: 'deployment',
  confidence: 0.95,
  summary: 'Deployment checkout:42 at 18:00Z introduced "TypeError: cannot read total" (confidence 0.95).',
  impactStartedAt: '2026-11-22T18:02:00.000Z',
  hypotheses: [
    {
      cause: 'deployment',
      confidence: 0.95,
      summary: 'deployment checkout:42 at 18:00Z introduced "TypeError: cannot read total"',
      evidence: [
        { step: 'deploy', text: 'deployment checkout:42 landed at 18:00Z, 2 min before the impact began', link: deployLink },
        { step: 'logs', text: 'ERROR "TypeError: cannot read total" first seen at 18:01Z, after the deployment (40×)', link: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home#logsV2:logs-insights' },
        { step: 'metrics', text: 'the impact began at 18:02Z, after the deployment' },
        { step: 'ecs', text: 'a fourth item the message leaves to the RCA' },
      ],
      against: [],
    },
    { cause: 'database', confidence: 0.1, summary: 'the database fails the service', evidence: [{ step: 'logs', text: '2× "SQLSTATE 40001"' }], against: [{ step: 'aurora', text: 'the writer of checkout-db is available and no failover is under way' }] },
  ],
  gaps: [{ step: 'changes', reason: 'recent changes (CloudTrail) not checked: access denied (the role needs cloudtrail:LookupEvents)' }],
};

const diagnose = (over: Partial<StepView> = {}) =>
  makeStep({ id: 'diagnose', action: 'diagnose', status: 'succeeded', startedAt: FINISHED, finishedAt: FINISHED, output: verdict, summary: verdict.summary, ...over });
const viewWith = (...steps: StepView[]) => makeView({ runs: [makeRun([STEPS.succeeded, ...steps])] });
const verdictSection = (steps: StepView[]) => incidentMessage(viewWith(...steps)).blocks[1];

describe('the verdict in the incident message', () => {
  it('leads with the verdict, its confidence, the top three evidence items with console links, what was ruled out and the gaps', () => {
    const message = incidentMessage(viewWith(diagnose()));
    expect(message.blocks[1]).toMatchSnapshot();
    const text = JSON.stringify(message.blocks[1]);
    expect(text).toContain('*Verdict: deployment* (confidence 0.95)');
    expect(text).toContain(`<${deployLink.replace('&', '&amp;')}|console>`);
    expect(text).not.toContain('a fourth item');
    expect(text).toContain('*Ruled out*: database (the writer of checkout-db is available');
    expect(text).toContain('*Not checked*: `changes` recent changes (CloudTrail) not checked: access denied (the role needs cloudtrail:LookupEvents)');
    expect(message.text).toContain('verdict: deployment');
  });

  it('says it is waiting while the diagnostics run, and shows nothing for a runbook without diagnose', () => {
    expect(verdictSection([diagnose({ status: 'pending', output: undefined, finishedAt: undefined })])).toMatchSnapshot();
    expect(JSON.stringify(incidentMessage(viewWith()))).not.toContain('Verdict');
  });

  it('abstains in words: unknown, with the hypotheses it weighed', () => {
    const unknown = { ...verdict, cause: 'unknown', confidence: 0, summary: 'No cause is clearly ahead: deployment (0.55) and database (0.50).', hypotheses: [{ ...verdict.hypotheses[0], confidence: 0.55 }, { ...verdict.hypotheses[1], confidence: 0.5 }] };
    const section = verdictSection([diagnose({ output: unknown })]);
    expect(section).toMatchSnapshot();
    expect(JSON.stringify(section)).toContain('*Weighed*: deployment 0.55, database 0.50');
  });

  it('shows the latest verdict of the incident, and a failed diagnosis', () => {
    const older = diagnose({ id: 'diagnose', finishedAt: '2026-11-22T18:05:00.000Z', output: { ...verdict, cause: 'capacity', hypotheses: [] } });
    expect(JSON.stringify(verdictSection([older, diagnose({ id: 'diagnose-again' })]))).toContain('*Verdict: deployment*');
    expect(JSON.stringify(verdictSection([diagnose({ status: 'failed', output: undefined, error: 'diagnose: "evidence" must be the run\'s steps' })]))).toContain('the diagnosis failed');
  });

  it('masks secrets, escapes markup and refuses links that are not https', () => {
    const nasty = {
      ...verdict,
      summary: `<!channel> ${SECRET_TEXT}`,
      hypotheses: [{ ...verdict.hypotheses[0], evidence: [{ step: 'logs', text: `<script> ${SECRET_TEXT}`, link: 'javascript:alert(1)' }, { step: 'deploy', text: 'x', link: 'https://evil.example/|<!here>' }] }],
    };
    const message = incidentMessage(viewWith(diagnose({ output: nasty })));
    const json = JSON.stringify(message);
    for (const secret of SECRETS) expect(json).not.toContain(secret);
    for (const text of mrkdwnOf(message)) expect(text).not.toMatch(/<script|<!channel>|<!here>|javascript:/);
    for (const text of textsOf(message)) expect(text.length).toBeLessThanOrEqual(3000);
  });

  it('keeps the per-step findings in the thread, but not the verdict itself', () => {
    const view = viewWith(diagnose());
    expect(findingMessage(view, view.runs[0], diagnose())).toBeNull();
    expect(findingMessage(view, view.runs[0], diagnose({ status: 'failed', output: undefined, error: 'boom' }))).not.toBeNull();
    expect(findingMessage(view, view.runs[0], STEPS.succeeded)).not.toBeNull();
  });
});
