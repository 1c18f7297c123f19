import type { Catalog } from './catalog';

/**
 * People: who approves, whatever the channel. Two-person approval counts people, not credentials:
 * a Slack click (a Slack user id), a personal token (the name it was made for) and an OIDC token (its
 * claim) of the same person are one approver. The catalog's `people` say which names are whose;
 * an approver group's older `slackUsers` / `users` entries that belong to no declared person are
 * each a person of their own, named by that entry.
 */
export interface Person {
  /** The stable id: the key under `people`, or the entry itself for an undeclared one. */
  id: string;
  name?: string;
  slack?: string;
  email?: string;
  usernames: string[];
  /** Declared under `people` (false: only named by a group's older `slackUsers` / `users`, or unlisted). */
  declared: boolean;
}

/** How a person approved: a Slack button, or the HTTP API (and the CLI) with a personal or OIDC token. */
export type ApprovalChannel = 'slack' | 'token' | 'oidc';
export const APPROVAL_CHANNELS: readonly ApprovalChannel[] = ['slack', 'token', 'oidc'];

const SLACK_USER = /^[UW][A-Z0-9]+$/;
/** Names are compared without case: e-mail addresses and user names are not case-sensitive to people. */
const key = (name: string): string => name.trim().toLowerCase();

/** Every name a credential may carry for this person. */
export function namesOf(person: Pick<Person, 'id' | 'slack' | 'email' | 'usernames'>): string[] {
  return [person.id, ...(person.slack ? [person.slack] : []), ...(person.email ? [person.email] : []), ...person.usernames];
}

/** A person the catalog does not declare, known by one name (a group's older entry, or a Slack user group member). */
function undeclared(name: string): Person {
  return { id: name, ...(SLACK_USER.test(name) ? { slack: name } : name.includes('@') ? { email: name } : {}), usernames: [], declared: false };
}

/** "alice (Alice Martin)" when the person has a display name; the id otherwise. */
export function personLabel(person: Pick<Person, 'id' | 'name'>): string {
  return person.name && person.name !== person.id ? `${person.id} (${person.name})` : person.id;
}

/**
 * The catalog's people and groups, indexed: built once per catalog (`peopleOf`), asked for every
 * approval, Slack message and token.
 */
export class PeopleIndex {
  private readonly byName = new Map<string, Person>();
  private readonly groupMembers = new Map<string, Person[]>();

  constructor(readonly catalog: Catalog) {
    for (const [id, entry] of Object.entries(catalog.people ?? {})) {
      const person: Person = { id, ...entry, usernames: entry.usernames ?? [], declared: true };
      // parseCatalog refuses a name of two people, so the first owner is the only one.
      for (const name of namesOf(person)) if (!this.byName.has(key(name))) this.byName.set(key(name), person);
    }
    for (const [group, def] of Object.entries(catalog.approverGroups)) {
      const members = new Map<string, Person>();
      for (const id of def.people ?? []) {
        const person = this.byName.get(key(id));
        if (person) members.set(person.id, person);
      }
      for (const name of [...def.slackUsers, ...def.users]) {
        let person = this.byName.get(key(name));
        if (!person) {
          person = undeclared(name);
          this.byName.set(key(name), person);
        }
        members.set(person.id, person);
      }
      this.groupMembers.set(group, [...members.values()]);
    }
  }

  /** The person a name belongs to (a person id, Slack user id, e-mail or user name); null for nobody in the catalog. */
  find(name: string): Person | null {
    return this.byName.get(key(name)) ?? null;
  }

  /**
   * The person a credential names: the catalog's, else one of their own known by that name (a
   * Slack user group member the catalog does not list, or someone who is no approver at all).
   */
  resolve(name: string): Person {
    return this.find(name) ?? undeclared(name);
  }

  /** The people of these approver groups, each once (Slack user group members are asked of Slack). */
  members(groups: readonly string[]): Person[] {
    const seen = new Map<string, Person>();
    for (const g of groups) for (const p of this.groupMembers.get(g) ?? []) seen.set(p.id, p);
    return [...seen.values()];
  }

  /** Is this person listed in one of the groups (by any of their names)? */
  isListed(person: Person, groups: readonly string[]): boolean {
    return this.members(groups).some((p) => p.id === person.id);
  }

  /** Every name a personal token may be made for: the names of every person of an approver group. */
  approverNames(): Set<string> {
    return new Set(this.members(Object.keys(this.catalog.approverGroups)).flatMap(namesOf));
  }
}

const cache = new WeakMap<Catalog, PeopleIndex>();

/** The index of a catalog, built on first use. */
export function peopleOf(catalog: Catalog): PeopleIndex {
  let index = cache.get(catalog);
  if (!index) {
    index = new PeopleIndex(catalog);
    cache.set(catalog, index);
  }
  return index;
}

/**
 * parseCatalog's checks of people: no name (person id, Slack user id, e-mail, user name) belongs
 * to two people, and every person a group names is declared. `at(path, message)` reports.
 */
export function checkPeople(catalog: Catalog, at: (path: (string | number)[], message: string) => void): void {
  const owners = new Map<string, { person: string; field: string }>();
  for (const [id, entry] of Object.entries(catalog.people ?? {})) {
    const fields: Array<[(string | number)[], string, string]> = [
      [[], id, 'id'],
      ...(entry.slack ? [[['slack'], entry.slack, 'Slack user id'] as [(string | number)[], string, string]] : []),
      ...(entry.email ? [[['email'], entry.email, 'e-mail'] as [(string | number)[], string, string]] : []),
      ...(entry.usernames ?? []).map((u, i): [(string | number)[], string, string] => [['usernames', i], u, 'user name']),
    ];
    const own = new Set<string>();
    for (const [path, name, field] of fields) {
      const owner = owners.get(key(name));
      if (owner && owner.person !== id) {
        at(['people', id, ...path], `${field} "${name}" already belongs to person "${owner.person}" (their ${owner.field}): one name, one person`);
      } else if (!own.has(key(name))) {
        owners.set(key(name), { person: id, field });
      }
      own.add(key(name));
    }
  }
  for (const [group, def] of Object.entries(catalog.approverGroups)) {
    (def.people ?? []).forEach((id, i) => {
      if (!catalog.people?.[id]) {
        const known = Object.keys(catalog.people ?? {});
        at(['approverGroups', group, 'people', i], `unknown person "${id}" (not in people${known.length > 0 ? `: ${known.join(', ')}` : ''})`);
      }
    });
  }
}
