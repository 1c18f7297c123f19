import { readFacts } from '../facts';
import { at, scenario, sig } from '../testing';
import { configurationChangeRule } from './configuration-change';

const assess = (input: Parameters<typeof readFacts>[0]) => configurationChangeRule.assess(readFacts(input));

const sgChange = { at: at(-6), who: 'bob', userType: 'IAMUser', eventName: 'RevokeSecurityGroupIngress', eventSource: 'ec2.amazonaws.com', resourceType: 'AWS::EC2::SecurityGroup', resourceName: 'sg-0abc', summary: 'revoked ingress 5432 on sg-0abc', byAutomation: false, isDeployment: false, link: 'https://console/cloudtrail/1' };

describe('configuration-change rule', () => {
  it("blames a person's change to the service's resources just before the impact, with its symptom", () => {
    const h = assess(scenario({}, { changes: { changes: [sgChange] }, logs: { signatures: [sig('connect ETIMEDOUT 10.0.3.4:8443', at(-5))] } }))!;
    expect(h.confidence).toBeGreaterThanOrEqual(0.8);
    expect(h.evidence[0]).toMatchObject({ step: 'changes', link: 'https://console/cloudtrail/1', text: expect.stringContaining('bob revoked ingress') });
  });

  it('weighs automation less and ignores deployments (deploy.recent covers them)', () => {
    const auto = assess(scenario({}, { changes: { changes: [{ ...sgChange, byAutomation: true, who: 'ci-role' }] } }))!;
    expect(auto.confidence).toBeLessThan(0.5);
    expect(assess(scenario({}, { changes: { changes: [{ ...sgChange, eventName: 'UpdateService', isDeployment: true }] } }))).toBeNull();
  });

  it('ignores changes long before, or after, the impact', () => {
    expect(assess(scenario({}, { changes: { changes: [{ ...sgChange, at: at(-120) }, { ...sgChange, at: at(30) }] } }))).toBeNull();
  });
});
