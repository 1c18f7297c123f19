import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsActions } from '@responder/aws/actions';
import { formatSourceProblem, parseCatalog } from '@responder/domain';
import { knownActions, parseRunbook, policyGrants } from '@responder/runbooks';

const ROOT = join(__dirname, '..', '..');

describe('runbooks/README.md', () => {
  it('its complete example is a valid runbook for the actions this build has', () => {
    const readme = readFileSync(join(ROOT, 'runbooks', 'README.md'), 'utf8');
    const example = /### A complete example\n\n```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    const catalogFile = join(ROOT, 'runbooks', 'service-catalog.yaml');
    const catalog = parseCatalog(catalogFile, readFileSync(catalogFile, 'utf8'));
    if (!catalog.ok) throw new Error('the example catalog is invalid');
    const parsed = parseRunbook('README example', example!, knownActions(awsActions()), { catalog: catalog.value });
    expect(parsed.ok ? [] : parsed.problems.map(formatSourceProblem)).toEqual([]);
  });
});

describe('runbooks/README.md, the service catalog', () => {
  const readme = readFileSync(join(ROOT, 'runbooks', 'README.md'), 'utf8');
  const example = /## The service catalog\n\n```yaml\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

  it('its example is a valid catalog, and the people errors it shows are what the validator prints', () => {
    const parsed = parseCatalog('service-catalog.yaml', example, { actions: knownActions(awsActions()) });
    expect(parsed.ok ? [] : parsed.problems.map(formatSourceProblem)).toEqual([]);
    const bad = example.replace('bob: { slack: U0123CHK02', 'bob: { slack: U0123CHK01').replace('people: [alice, bob] ', 'people: [alice, bob, dave] ');
    const refused = parseCatalog('service-catalog.yaml', bad);
    const shown = /```text\n(service-catalog\.yaml:\d+:\d+: people\.[\s\S]*?)```/.exec(readme)?.[1];
    expect(refused.ok ? [] : refused.problems.map(formatSourceProblem)).toEqual(shown?.trim().split('\n'));
  });
});

describe('runbooks/production-down.yaml', () => {
  const catalogFile = join(ROOT, 'runbooks', 'service-catalog.yaml');
  const catalog = parseCatalog(catalogFile, readFileSync(catalogFile, 'utf8'));
  if (!catalog.ok) throw new Error('the example catalog is invalid');
  const parsed = parseRunbook('production-down.yaml', readFileSync(join(ROOT, 'runbooks', 'production-down.yaml'), 'utf8'), knownActions(awsActions()), { catalog: catalog.value });
  if (!parsed.ok) throw new Error(parsed.problems.map(formatSourceProblem).join('\n'));
  const rollback = parsed.value.steps.find((s) => s.id === 'rollback')!;
  // The verdict blames the deployment surely enough (0.9 >= the example's 0.8) unless told otherwise.
  const grants = (minutesBeforeOnset: number, window: number, verdict: { cause: string; confidence: number } = { cause: 'deployment', confidence: 0.9 }) =>
    policyGrants(rollback, {
      service: { ...catalog.value.services.checkout, limits: { ...catalog.value.services.checkout.limits, autoRollbackWindowMinutes: window } },
      steps: {
        deploy: { status: 'succeeded', output: { correlated: true, minutes_before_onset: minutesBeforeOnset } },
        diagnose: { status: 'succeeded', output: verdict },
      },
    });

  it('recent-deploy: autoRollbackWindowMinutes 0 grants no rollback, even for a deployment seconds old (read as 0.0 minutes)', () => {
    expect(grants(0, 0)).toBe(false);
    expect(grants(0.1, 0)).toBe(false);
    expect(grants(0, 30)).toBe(true);
    expect(grants(30, 30)).toBe(true);
    expect(grants(30.1, 30)).toBe(false);
    expect(grants(-1, 30)).toBe(false);
  });

  it('recent-deploy: inside the window it still needs the verdict to blame the deployment with at least autoRollbackMinConfidence', () => {
    expect(grants(5, 30, { cause: 'deployment', confidence: 0.8 })).toBe(true);
    expect(grants(5, 30, { cause: 'deployment', confidence: 0.79 })).toBe(false);
    expect(grants(5, 30, { cause: 'database', confidence: 0.9 })).toBe(false);
    expect(grants(5, 30, { cause: 'unknown', confidence: 0 })).toBe(false);
    expect(grants(0, 0, { cause: 'deployment', confidence: 1 })).toBe(false);
  });
});
