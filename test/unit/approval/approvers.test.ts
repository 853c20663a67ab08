import { describe, expect, it } from 'vitest';
import { type Person, parseApprover, refusalOf, refusalText, teamEntries } from '../../../core/approval/approvers';

const person = (login: string, names: string[] = [login]): Person => ({ source: 'github', login, names });

describe('who may decide a gate', () => {
  it.each<[string[], string | null, string | null]>([
    [[], 'mallory', null],
    [['alice', 'Bob'], 'bob', null],
    [['alice', 'Bob'], 'mallory', 'not-approver'],
    [['alice'], null, 'anonymous'],
    [[], null, 'anonymous'],
  ])('approvers %j, person %s → %s', (approvers, login, refusal) => {
    expect(refusalOf({ approvers }, login ? person(login) : null)?.kind ?? null).toBe(refusal);
  });

  it("refuses the commit's author unless the environment allows self-approval", () => {
    const gate = { approvers: ['octocat', 'alice'], author: 'OctoCat' };
    expect(refusalOf(gate, person('octocat'))?.kind).toBe('author');
    expect(refusalOf({ ...gate, allowSelfApproval: true }, person('octocat'))).toBeNull();
    expect(refusalOf(gate, person('alice'))).toBeNull();
    expect(refusalOf({ approvers: [], author: 'octocat' }, person('octocat'))?.kind).toBe('author');
  });

  it('lets a team entry in only with a membership the host confirmed', () => {
    const gate = { approvers: ['@acme/release'] };
    expect(teamEntries(['alice', '@acme/release', '@acme'])).toEqual(['@acme/release', '@acme']);
    expect(parseApprover('@acme/release')).toEqual({ kind: 'team', team: 'acme/release', entry: '@acme/release' });
    expect(refusalOf(gate, person('carol'), { '@acme/release': true })).toBeNull();
    expect(refusalOf(gate, person('carol'), { '@acme/release': false })?.kind).toBe('not-approver');
    expect(refusalOf(gate, person('carol'))?.kind).toBe('not-approver');
  });

  it('matches a Bitbucket person by account id or UUID, not by the nickname anyone can take', () => {
    const bitbucket: Person = { source: 'bitbucket', login: 'alice', names: ['557058:abc', '{uuid-1}'] };
    expect(refusalOf({ approvers: ['557058:abc'] }, bitbucket)).toBeNull();
    expect(refusalOf({ approvers: ['{UUID-1}'] }, bitbucket)).toBeNull();
    expect(refusalOf({ approvers: ['alice'] }, bitbucket)?.kind).toBe('not-approver');
  });

  it('says each refusal once', () => {
    const gate = { approvers: ['alice'], author: 'octocat' };
    expect(refusalText(refusalOf(gate, person('mallory'))!, 'production', gate.approvers)).toBe(
      'mallory is not among the approvers of production (alice)',
    );
    expect(refusalText(refusalOf(gate, person('octocat'))!, 'production', gate.approvers)).toBe(
      'octocat pushed this commit and may not approve its own deploy to production',
    );
  });
});
