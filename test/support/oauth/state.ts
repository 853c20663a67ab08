import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Provider } from '../../../core/config/schema';

/** The stand-in OAuth servers' shared state and the checks every host makes (see server.ts). */

export interface StandInUser {
  readonly login: string;
  /** GitHub and GitLab numeric id; Bitbucket account id. */
  readonly id: number | string;
  /** Bitbucket's `{uuid}`. */
  readonly uuid?: string;
  /** Bitbucket's account id (`557058:…`). */
  readonly accountId?: string;
}

export interface OAuthStandInOptions {
  readonly provider: Provider;
  readonly client: { readonly clientId: string; readonly clientSecret: string };
  /** The callback URL registered for the client (Bitbucket sends every sign-in there). */
  readonly callbackUrl: string;
  readonly users: readonly StandInUser[];
  /** Team (GitHub `org/slug`, GitLab group path, Bitbucket workspace) → member logins. */
  readonly teams?: Readonly<Record<string, readonly string[]>>;
  /** Stepline's own token (the status functions'), taken by the API with every scope. */
  readonly platformToken?: string;
  /** GitHub pull requests, by number: their head commit and whether it comes from a fork. */
  readonly pullRequests?: Readonly<Record<number, { readonly sha: string; readonly fork?: boolean }>>;
}

export interface IssuedCode {
  readonly code: string;
  readonly user: StandInUser;
  readonly redirectUri: string | null;
  readonly challenge: string | null;
  readonly method: string | null;
  readonly scopes: readonly string[];
  readonly issuedAt: number;
  used: boolean;
}

export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface StandInState {
  options: OAuthStandInOptions;
  readonly codes: Map<string, IssuedCode>;
  readonly tokens: Map<string, { readonly user: StandInUser; readonly scopes: readonly string[] }>;
  readonly comments: { readonly path: string; readonly body: unknown }[];
  signedIn: StandInUser;
  /** The answer the user gives at the consent screen: `allow`, or an error such as `access_denied`. */
  consent: 'allow' | string;
  now: () => number;
}

export type RouteResult = { status: number; headers?: Record<string, string>; body?: unknown; text?: string };
export type Route = (
  req: { method: string; path: string; query: URLSearchParams; headers: IncomingMessage['headers']; body: string },
  state: StandInState,
) => RouteResult | null;

export function newCode(state: StandInState, fields: Omit<IssuedCode, 'code' | 'used' | 'issuedAt' | 'user'>): string {
  const code = randomBytes(10).toString('hex');
  state.codes.set(code, { ...fields, code, user: state.signedIn, used: false, issuedAt: state.now() });
  return code;
}

/** Checks a code as every host does; answers the error code, or the code's record. */
export function redeem(
  state: StandInState,
  code: string | null,
  redirectUri: string | null,
  verifier: string | null,
  redirectOptional = false,
): { ok: true; issued: IssuedCode } | { ok: false; error: string } {
  const issued = code ? state.codes.get(code) : undefined;
  if (!issued || issued.used || state.now() - issued.issuedAt > 600_000) return { ok: false, error: 'invalid_grant' };
  const skip = redirectOptional && redirectUri === null;
  if (!skip && issued.redirectUri !== null && redirectUri !== issued.redirectUri) {
    return { ok: false, error: 'redirect_uri_mismatch' };
  }
  if (issued.challenge !== null) {
    if (!verifier || createHash('sha256').update(verifier).digest('base64url') !== issued.challenge) {
      return { ok: false, error: 'invalid_grant' };
    }
  }
  issued.used = true;
  return { ok: true, issued };
}

export function newToken(state: StandInState, issued: IssuedCode): string {
  const token = `${state.options.provider.slice(0, 2)}o_${randomBytes(12).toString('hex')}`;
  state.tokens.set(token, { user: issued.user, scopes: issued.scopes });
  return token;
}

export function bearer(req: { headers: IncomingMessage['headers'] }, state: StandInState) {
  const header = String(req.headers.authorization ?? '');
  const match = /^Bearer (\S+)$/i.exec(header);
  return match ? (state.tokens.get(match[1]!) ?? null) : null;
}

export function basicClient(req: { headers: IncomingMessage['headers'] }): { id: string; secret: string } | null {
  const match = /^Basic (\S+)$/i.exec(String(req.headers.authorization ?? ''));
  if (!match) return null;
  const [id, ...secret] = Buffer.from(match[1]!, 'base64').toString('utf8').split(':');
  return id ? { id, secret: secret.join(':') } : null;
}

export function member(state: StandInState, team: string, login: string): boolean {
  return (state.options.teams?.[team] ?? []).some((m) => m.toLowerCase() === login.toLowerCase());
}

/** Where the host sends the browser back: the redirect URI with the code (or the error) and the state. */
export function back(redirectUri: string, params: Record<string, string | null>): RouteResult {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) if (value !== null) url.searchParams.set(key, value);
  return { status: 302, headers: { location: url.toString() }, text: '' };
}

/** A reply comment, recorded. */
export function comment(state: StandInState, path: string, body: string, id: number): RouteResult {
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { status: 400, body: { message: 'Problems parsing JSON' } };
  }
  state.comments.push({ path, body: parsed });
  return { status: 201, body: { id, ...(parsed as object) } };
}
