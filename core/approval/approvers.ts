import type { Provider } from '../config/schema';

/**
 * Who may decide an approval gate (pure). An environment's `approvers` lists Git host logins and host teams:
 * `alice` is a login (Bitbucket: an account id or `{uuid}`, since Bitbucket nicknames are not unique), and
 * `@acme/release` a team: a GitHub team (`@org/team-slug`), a GitLab group or subgroup (`@group/sub`, members
 * inherited), or a Bitbucket workspace (`@workspace`). Team membership is checked through the host's API with the
 * person's own token when they sign in (functions/approval), and carried in the session as `teams`.
 *
 * The commit's author never decides their own deploy unless the environment says `allowSelfApproval: true`.
 * An environment without approvers accepts anyone who has signed in and is not the author.
 */

export type ApproverEntry =
  | { readonly kind: 'user'; readonly login: string }
  | { readonly kind: 'team'; readonly team: string; readonly entry: string };

/** A person, as the host (or the local runtime) told us who they are. */
export interface Person {
  /** Where the identity comes from: a Git host's sign-in, a trusted header, or the local runtime. */
  readonly source: Provider | 'header' | 'local';
  /** The name shown and recorded: GitHub and GitLab logins, Bitbucket nicknames. */
  readonly login: string;
  /**
   * The names a login entry of `approvers` is compared with (case-insensitive): the login on GitHub and GitLab,
   * the account id and UUID on Bitbucket.
   */
  readonly names: readonly string[];
}

export function parseApprover(entry: string): ApproverEntry {
  const trimmed = entry.trim();
  if (trimmed.startsWith('@') && trimmed.length > 1) {
    return { kind: 'team', team: trimmed.slice(1), entry: trimmed };
  }
  return { kind: 'user', login: trimmed };
}

/** The team entries of an approver list (`@org/team`), which need the host's API to check. */
export function teamEntries(approvers: readonly string[]): string[] {
  return approvers.map(parseApprover).flatMap((a) => (a.kind === 'team' ? [a.entry] : []));
}

function same(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** Whether the person is the commit's author (the login that pushed it, or opened the pull request). */
export function isAuthor(author: string | null | undefined, person: Person): boolean {
  if (!author || author === 'unknown') return false;
  return same(author, person.login) || person.names.some((name) => same(author, name));
}

export type Refusal =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'not-approver'; readonly person: Person }
  | { readonly kind: 'author'; readonly person: Person };

export interface GateRules {
  readonly approvers: readonly string[];
  /** The login that pushed the commit; null when the host did not say. */
  readonly author?: string | null;
  readonly allowSelfApproval?: boolean;
}

/**
 * Whether `person` may decide a gate: null when they may, else why not. `teams` maps the team entries checked at
 * sign-in to whether the person belongs to them; an entry not in it counts as not a member.
 */
export function refusalOf(
  gate: GateRules,
  person: Person | null,
  teams: Readonly<Record<string, boolean>> = {},
): Refusal | null {
  if (!person) return { kind: 'anonymous' };
  if (!gate.allowSelfApproval && isAuthor(gate.author, person)) return { kind: 'author', person };
  if (gate.approvers.length === 0) return null;
  const listed = gate.approvers.some((raw) => {
    const entry = parseApprover(raw);
    if (entry.kind === 'team') return teams[entry.entry] === true;
    return person.names.some((name) => same(name, entry.login));
  });
  return listed ? null : { kind: 'not-approver', person };
}

/** The refusal in words, said once: for pages, reply comments and the CLI. */
export function refusalText(refusal: Refusal, environment: string, approvers: readonly string[]): string {
  switch (refusal.kind) {
    case 'anonymous':
      return `sign in to decide the deploy to ${environment}`;
    case 'author':
      return `${refusal.person.login} pushed this commit and may not approve its own deploy to ${environment}`;
    case 'not-approver':
      return `${refusal.person.login} is not among the approvers of ${environment} (${approvers.join(', ')})`;
  }
}
