import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsActions } from '@responder/aws/actions';
import { formatSourceProblem, parseCatalog } from '@responder/domain';
import { knownActions } from './builtin-actions';
import { parseRunbook } from './runbook';

const ROOT = join(__dirname, '..', '..', '..');

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
