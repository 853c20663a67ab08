import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Person } from '../../core/approval/approvers';
import { APPROVAL_ENV } from '../../core/approval/contracts';
import type { SignInHosts } from '../../core/approval/sign-in';

/**
 * Who is deciding. The approval page is public, so the approver's identity must come from something the requester
 * cannot make up (docs/adr/0037):
 * - the Git host's sign-in (`signIn`): the person signs in with the host of the repository (OAuth 2.0 web flow)
 *   and the pages keep who they are in a short-lived sealed session cookie;
 * - else a trusted identity: a header set by an authenticating proxy in front of the route (oauth2-proxy's
 *   `X-Forwarded-User`), or the local runtime's own identity (one person, one machine; docs/adr/0059).
 * Either way the decision form carries a CSRF token bound to the session, and the name recorded is the one the page
 * showed.
 */
export type TrustedIdentity =
  | { readonly kind: 'header'; readonly header: string }
  | { readonly kind: 'local'; readonly current: () => string | null };

export interface IdentityMode {
  /** The hosts' sign-ins; a host without an OAuth client falls back to `trusted`. */
  readonly signIn: SignInHosts | null;
  readonly trusted: TrustedIdentity | null;
}

/** The mode of the environment: `sign-in` (default) or `header`. */
export function identityModeFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  signIn: SignInHosts,
): IdentityMode {
  const kind = env[APPROVAL_ENV.identity] || 'sign-in';
  switch (kind) {
    case 'sign-in':
      return { signIn, trusted: null };
    case 'header':
      return {
        signIn: null,
        trusted: { kind: 'header', header: (env[APPROVAL_ENV.header] || 'x-forwarded-user').toLowerCase() },
      };
    default:
      throw new TypeError(`${APPROVAL_ENV.identity} must be sign-in or header, got "${kind}"`);
  }
}

function clean(value: unknown): string | null {
  return typeof value === 'string' && value.trim() ? value.trim().slice(0, 100) : null;
}

/** The person a trusted identity names, or null. */
export function trustedPerson(event: APIGatewayProxyEventV2, trusted: TrustedIdentity | null): Person | null {
  if (!trusted) return null;
  const login = trusted.kind === 'header' ? clean(event.headers?.[trusted.header]) : clean(trusted.current());
  return login ? { source: trusted.kind, login, names: [login] } : null;
}
