import { type Catalog, parseCatalog } from './catalog';
import { PeopleIndex, peopleOf, personLabel } from './people';
import { formatSourceProblem } from './yaml-source';

function parse(text: string): Catalog {
  const r = parseCatalog('catalog.yaml', text);
  if (!r.ok) throw new Error(r.problems.map(formatSourceProblem).join('\n'));
  return r.value;
}
function problems(text: string): string[] {
  const r = parseCatalog('catalog.yaml', text);
  return r.ok ? [] : r.problems.map(formatSourceProblem);
}

const CATALOG = `
people:
  alice: { name: Alice Martin, slack: U0ALICE01, email: alice@example.com, usernames: [amartin, 00u1alice] }
  bob: { slack: U0BOB0001, email: bob@example.com }
  carol: { email: carol@example.com }
approverGroups:
  oncall: { people: [alice, bob], slackUserGroup: S0ONCALL1 }
  managers: { people: [carol], slackUsers: [U0DAVE001], users: [erin@example.com, bob@example.com] }
services:
  shop: { alarms: { names: [shop-5xx] }, approvers: [oncall] }
`;

describe('people in the catalog', () => {
  const people = new PeopleIndex(parse(CATALOG));

  it('finds one person under each of their names, whatever the case', () => {
    for (const name of ['alice', 'U0ALICE01', 'alice@example.com', 'Alice@Example.com', 'amartin', '00u1alice']) expect(people.find(name)?.id).toBe('alice');
    expect(people.find('bob@example.com')).toMatchObject({ id: 'bob', slack: 'U0BOB0001', declared: true });
    expect(people.find('mallory@example.com')).toBeNull();
  });

  it('lists a group by people; an older raw entry of a declared person is that person, others are people of their own', () => {
    expect(people.members(['oncall']).map((p) => p.id)).toEqual(['alice', 'bob']);
    expect(people.members(['managers']).map((p) => p.id)).toEqual(['carol', 'U0DAVE001', 'erin@example.com', 'bob']);
    expect(people.find('U0DAVE001')).toMatchObject({ id: 'U0DAVE001', slack: 'U0DAVE001', declared: false });
    expect(people.members(['oncall', 'managers']).filter((p) => p.id === 'bob')).toHaveLength(1);
    expect(people.isListed(people.resolve('U0BOB0001'), ['managers'])).toBe(true);
    expect(people.isListed(people.resolve('U0ALICE01'), ['managers'])).toBe(false);
  });

  it('resolves a name nobody declares to a person of its own, so a Slack user group member still counts once', () => {
    expect(people.resolve('U0CAROL99')).toEqual({ id: 'U0CAROL99', slack: 'U0CAROL99', usernames: [], declared: false });
    expect(people.resolve('mallory@example.com')).toMatchObject({ id: 'mallory@example.com', declared: false });
  });

  it('gives every name a token may be made for, and labels people for messages', () => {
    expect([...people.approverNames()].sort()).toEqual(
      ['00u1alice', 'U0ALICE01', 'U0BOB0001', 'U0DAVE001', 'alice', 'alice@example.com', 'amartin', 'bob', 'bob@example.com', 'carol', 'carol@example.com', 'erin@example.com'].sort(),
    );
    expect(personLabel(people.find('alice')!)).toBe('alice (Alice Martin)');
    expect(personLabel(people.find('bob')!)).toBe('bob');
  });

  it('builds the index of a catalog once', () => {
    const catalog = parse(CATALOG);
    expect(peopleOf(catalog)).toBe(peopleOf(catalog));
  });

  it('reads the older format (groups of raw Slack ids and names) as one person per entry', () => {
    const old = new PeopleIndex(parse('approverGroups:\n  oncall: { slackUsers: [U0ALICE01], users: [alice@example.com] }\n'));
    expect(old.members(['oncall']).map((p) => p.id)).toEqual(['U0ALICE01', 'alice@example.com']);
    expect(parse('approverGroups:\n  oncall: { slackUsers: [U0ALICE01] }\n').people).toBeUndefined();
  });

  it('refuses a Slack id, e-mail or user name of two people, naming both', () => {
    expect(
      problems(`
people:
  alice: { slack: U0ALICE01, email: alice@example.com }
  alias: { slack: U0ALICE01 }
  bob: { email: Alice@example.com, usernames: [alice] }
`),
    ).toEqual([
      'catalog.yaml:4:19: people.alias.slack: Slack user id "U0ALICE01" already belongs to person "alice" (their Slack user id): one name, one person',
      'catalog.yaml:5:17: people.bob.email: e-mail "Alice@example.com" already belongs to person "alice" (their e-mail): one name, one person',
      'catalog.yaml:5:48: people.bob.usernames[0]: user name "alice" already belongs to person "alice" (their id): one name, one person',
    ]);
  });

  it('refuses a group naming an unknown person, and a malformed person', () => {
    expect(problems('people:\n  alice: { slack: U0ALICE01 }\napproverGroups:\n  oncall: { people: [alice, bobby] }\n')).toEqual([
      'catalog.yaml:4:29: approverGroups.oncall.people[1]: unknown person "bobby" (not in people: alice)',
    ]);
    expect(problems('people:\n  alice: { slack: alice, phone: 555 }\n').join('\n')).toMatch(/people\.alice\.slack: expected a Slack user id.*\n.*people\.alice: Unrecognized key: "phone"/);
    expect(problems('people:\n  Alice Martin: { slack: U0ALICE01 }\n')[0]).toMatch(/people\.Alice Martin: expected a person id/);
  });
});
