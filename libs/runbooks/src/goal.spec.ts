import { formatSourceProblem } from '@responder/domain';
import { TEST_ACTION_DESCRIPTORS } from '../../../test/support/test-actions';
import { knownActions } from './builtin-actions';
import { parseRunbook } from './runbook';

const actions = knownActions([
  ...TEST_ACTION_DESCRIPTORS,
  { id: 'deploy.rollback', mutating: true, description: 'roll back' },
  { id: 'ecs.scale-up', mutating: true, description: 'scale up' },
  { id: 'aurora.failover', mutating: true, description: 'fail over' },
  { id: 'alb.target-health', mutating: false, description: 'targets' },
]);

function runbook(step: string): string {
  return `name: rb\ntriggers: { services: [checkout] }\nsteps:\n  - ${step}\n`;
}

function goalOf(step: string) {
  const r = parseRunbook('rb.yaml', runbook(step), actions);
  if (!r.ok) throw new Error(r.problems.map(formatSourceProblem).join('\n'));
  return r.value.steps[0].goal;
}

function problems(step: string): string[] {
  const r = parseRunbook('rb.yaml', runbook(step), actions);
  return r.ok ? [] : r.problems.map(formatSourceProblem);
}

describe('step goals', () => {
  it('gives each mutating action its default goal, and read-only steps none', () => {
    expect(goalOf('{ id: r, action: deploy.rollback, approval: none }')).toEqual({
      withinMs: 600_000,
      pollMs: 15_000,
      checks: ['service-on-target', 'deployment-steady', 'alarms-ok', 'targets-healthy'],
    });
    expect(goalOf('{ id: s, action: ecs.scale-up, approval: none }')?.checks).toEqual(['running-reached-desired', 'alarms-ok']);
    expect(goalOf('{ id: f, action: aurora.failover, approval: none }')?.checks).toEqual(['writer-available']);
    expect(goalOf('{ id: t, action: alb.target-health }')).toBeNull();
    // A mutating action without a default goal has none until its step names checks.
    expect(goalOf('{ id: m, action: test.mutate, approval: none }')).toBeNull();
  });

  it('reads within (minutes or a duration), poll (seconds or a duration), checks, and none', () => {
    expect(goalOf('{ id: r, action: deploy.rollback, approval: none, goal: { within: 5, poll: 10, checks: [alarms-ok] } }')).toEqual({ withinMs: 300_000, pollMs: 10_000, checks: ['alarms-ok'] });
    expect(goalOf('{ id: r, action: deploy.rollback, approval: none, goal: { within: 90s, poll: 500ms } }')).toMatchObject({ withinMs: 90_000, pollMs: 500 });
    expect(goalOf('{ id: r, action: deploy.rollback, approval: none, goal: none }')).toBeNull();
    expect(goalOf('{ id: m, action: test.mutate, approval: none, goal: { checks: [alarms-ok, alarms-ok] } }')).toEqual({ withinMs: 600_000, pollMs: 15_000, checks: ['alarms-ok'] });
  });

  it('refuses a bad goal with the place and what is wrong', () => {
    expect(problems('{ id: r, action: deploy.rollback, approval: none, goal: { checks: [alarm-ok] } }')).toEqual([expect.stringMatching(/^rb\.yaml:4:\d+: steps\[0\]\.goal\.checks\[0\]: unknown goal check "alarm-ok" \(did you mean "alarms-ok"\?\)$/)]);
    expect(problems('{ id: r, action: deploy.rollback, approval: none, goal: { checks: [nope] } }')[0]).toMatch(/unknown goal check "nope" \(the checks are service-on-target, deployment-steady, alarms-ok/);
    expect(problems('{ id: r, action: deploy.rollback, approval: none, goal: { within: 0 } }')[0]).toMatch(/within: expected a number of minutes above 0/);
    expect(problems('{ id: r, action: deploy.rollback, approval: none, goal: { within: soon } }')[0]).toMatch(/within: expected a duration such as "30s"/);
    expect(problems('{ id: r, action: deploy.rollback, approval: none, goal: { within: 1, poll: 120 } }')[0]).toMatch(/poll is longer than within/);
    expect(problems('{ id: r, action: deploy.rollback, approval: none, goal: { within: 1, until: ok } }')[0]).toMatch(/unknown goal field "until"/);
    expect(problems('{ id: r, action: deploy.rollback, approval: none, goal: yes }')[0]).toMatch(/expected none or \{ within, poll, checks \}/);
    expect(problems('{ id: r, action: deploy.rollback, approval: none, goal: { checks: [] } }')[0]).toMatch(/expected a non-empty list of checks/);
    expect(problems('{ id: m, action: test.mutate, approval: none, goal: { within: 5 } }')[0]).toMatch(/test.mutate has no default goal: name its checks/);
    expect(problems('{ id: t, action: alb.target-health, goal: { checks: [alarms-ok] } }')[0]).toMatch(/goal has no effect: alb.target-health changes nothing/);
  });
});
