import type { Provider } from '../config/schema';
import type { Person } from './approvers';

/**
 * The port of the approval pages' sign-in (docs/adr/0037): one Git host's OAuth 2.0 web flow (authorization code,
 * with PKCE where the host takes it) and the two API calls that follow it with the person's own token: who they
 * are, and whether they belong to a team the approvers name. The token is used for those calls and dropped; it is
 * never stored, never put in a cookie, never logged. Implementations: functions/approval/sign-in/.
 */

/** An OAuth client registered at a host (GitHub OAuth app or GitHub App, GitLab application, Bitbucket consumer). */
export interface OAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface SignedInPerson {
  readonly person: Person;
  /** What the host's membership API takes: the GitHub login, the GitLab user id, the Bitbucket UUID. */
  readonly hostId: string;
}

export interface SignInHost {
  readonly provider: Provider;
  /** Whether the host takes a PKCE challenge (S256). */
  readonly pkce: boolean;
  /**
   * The host's authorization URL. `teams`: the approvers name teams, so the token must be allowed to read
   * memberships (GitHub `read:org`, GitLab `read_api`; Bitbucket's scopes are set on the consumer).
   */
  authorizeUrl(input: {
    readonly state: string;
    readonly challenge: string | null;
    readonly redirectUri: string;
    readonly teams: boolean;
  }): string;
  /** Exchanges the code for an access token; throws `SignInError`. */
  exchange(input: {
    readonly code: string;
    readonly verifier: string | null;
    readonly redirectUri: string;
  }): Promise<string>;
  /** The person the token belongs to; throws `SignInError`. */
  person(token: string): Promise<SignedInPerson>;
  /** Whether the person belongs to `team` (an approvers entry without its `@`); throws `SignInError`. */
  isMember(token: string, who: SignedInPerson, team: string): Promise<boolean>;
}

/** The sign-in of a host, or null when no OAuth client is set up for it. */
export type SignInHosts = (provider: Provider) => Promise<SignInHost | null>;
