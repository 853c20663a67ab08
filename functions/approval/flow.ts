import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { refusalOf, teamEntries } from '../../core/approval/approvers';
import type { ApprovalRecord, ApprovalStore, TaskCallbacks } from '../../core/approval/contracts';
import { SignInError } from '../../core/approval/errors';
import { decideApproval, gateOf, resolveLink } from '../../core/approval/service';
import {
  checkCsrf,
  csrfToken,
  newSession,
  newSignIn,
  openSession,
  openSignIn,
  SESSION_SECONDS,
  type SessionClaims,
  SIGN_IN_SECONDS,
  sameSecret,
  seal,
} from '../../core/approval/session';
import type { SignInHost } from '../../core/approval/sign-in';
import { type CookieNames, clearCookie, readCookie, setCookie } from './cookies';
import { type IdentityMode, trustedPerson } from './identity';
import { approvalPage, decisionPage, type PageOptions, problemPage, redirect, refusalPage, sourceName } from './pages';

/**
 * The approval pages' three steps (docs/adr/0037), each a function of the request:
 * - `showPage` (GET `/approvals/{id}`): a link that cannot be used gets its 4xx page; else a person without a
 *   session for the repository's host is sent to the host's sign-in, and one with a session sees the request, with
 *   Approve and Reject when they may decide.
 * - `signedIn` (GET `/approvals/oauth/callback`): checks the sign-in cookie and `state`, exchanges the code (with
 *   the PKCE verifier), asks the host who it is and which of the approvers' teams they belong to, and opens the
 *   session.
 * - `decide` (POST `/approvals/{id}`): needs the session and its CSRF token; the name recorded is the session's.
 */
export interface Flow {
  readonly store: ApprovalStore;
  readonly callbacks: TaskCallbacks;
  readonly keys: readonly string[];
  readonly identity: IdentityMode;
  readonly options: PageOptions;
  /** Public base URL of the pages, without a trailing slash. */
  readonly baseUrl: string;
  readonly secure: boolean;
  readonly cookies: CookieNames;
  readonly now: () => number;
  readonly logger: Logger;
}

export const CALLBACK_PATH = '/approvals/oauth/callback';

type Result = APIGatewayProxyStructuredResultV2;

function withCookies(result: Result, cookies: string[]): Result {
  return cookies.length ? { ...result, cookies: [...(result.cookies ?? []), ...cookies] } : result;
}

function pageUrl(flow: Flow, signedId: string): string {
  return `${flow.baseUrl}/approvals/${signedId}`;
}

async function signInOf(record: ApprovalRecord, flow: Flow): Promise<SignInHost | null> {
  return flow.identity.signIn ? flow.identity.signIn(record.provider) : null;
}

/**
 * The session of the request, when it fits the record: signed in with the record's host where that host has a
 * sign-in; else the same trusted person (the proxy's header, the local identity).
 */
function sessionFor(
  event: APIGatewayProxyEventV2,
  record: ApprovalRecord,
  host: SignInHost | null,
  flow: Flow,
): SessionClaims | null {
  const opened = openSession(readCookie(event, flow.cookies.session), flow.keys, flow.now());
  if (!opened.ok) return null;
  const { person } = opened.claims;
  if (host) return person.source === record.provider ? opened.claims : null;
  const trusted = flow.identity.trusted;
  if (!trusted || person.source !== trusted.kind) return null;
  if (trusted.kind === 'header' && trustedPerson(event, trusted)?.login !== person.login) return null;
  return opened.claims;
}

function startSignIn(host: SignInHost, record: ApprovalRecord, signedId: string, flow: Flow): Result {
  const { claims, challenge } = newSignIn(record.provider, signedId, host.pkce, flow.now());
  const location = host.authorizeUrl({
    state: claims.state,
    challenge,
    redirectUri: `${flow.baseUrl}${CALLBACK_PATH}`,
    teams: teamEntries(record.approvers).length > 0,
  });
  flow.logger.info('approval sign-in started', { provider: record.provider, approvalId: record.id });
  return withCookies(redirect(location), [
    setCookie(flow.cookies.signIn, seal(claims, flow.keys), SIGN_IN_SECONDS, flow.secure),
  ]);
}

/** Whether a session should sign in again: it has not checked a team of these approvers, and no login entry fits. */
function teamsUnchecked(session: SessionClaims, record: ApprovalRecord): boolean {
  const unchecked = teamEntries(record.approvers).some((entry) => !(entry in session.teams));
  return unchecked && refusalOf(gateOf(record), session.person, session.teams)?.kind === 'not-approver';
}

export async function showPage(event: APIGatewayProxyEventV2, signedId: string, flow: Flow): Promise<Result> {
  const resolved = await resolveLink(signedId, { store: flow.store, keys: flow.keys, now: flow.now });
  if (resolved.kind !== 'ok') return problemPage(resolved, flow.options)!;
  const { record } = resolved;
  const host = await signInOf(record, flow);
  const again = event.queryStringParameters?.['sign-in'] === 'again';
  let session = again ? null : sessionFor(event, record, host, flow);
  const cookies: string[] = [];
  if (host && (!session || teamsUnchecked(session, record))) return startSignIn(host, record, signedId, flow);
  if (!session) {
    const person = trustedPerson(event, flow.identity.trusted);
    if (!person && flow.identity.trusted?.kind === 'header') {
      return refusalPage(401, 'Not signed in', 'The sign-in in front of these pages did not say who you are', null);
    }
    if (!person) {
      return refusalPage(
        503,
        'Sign-in is not set up',
        `Nobody can sign in with ${sourceName(record.provider)} here yet: its OAuth client is not configured (see the README, "Approvals: sign in with the Git host")`,
        null,
      );
    }
    session = newSession(person, {}, flow.now());
    cookies.push(setCookie(flow.cookies.session, seal(session, flow.keys), SESSION_SECONDS, flow.secure));
  }
  const refusal = refusalOf(gateOf(record), session.person, session.teams);
  const page = approvalPage(
    { kind: 'open', record, person: session.person, refusal },
    {
      ...flow.options,
      csrf: csrfToken(session, record.id, flow.keys),
      signInAgain: host ? `${pageUrl(flow, signedId)}?sign-in=again` : null,
    },
  );
  return withCookies(page, cookies);
}

export async function decide(
  event: APIGatewayProxyEventV2,
  signedId: string,
  form: URLSearchParams,
  flow: Flow,
): Promise<Result> {
  const core = { store: flow.store, keys: flow.keys, now: flow.now };
  const resolved = await resolveLink(signedId, core);
  if (resolved.kind !== 'ok') return problemPage(resolved, flow.options)!;
  const { record } = resolved;
  const back = pageUrl(flow, signedId);
  const session = sessionFor(event, record, await signInOf(record, flow), flow);
  if (!session) {
    flow.logger.warn('approval decision refused', { outcome: 'no-session', approvalId: record.id });
    return refusalPage(
      401,
      'Sign in first',
      'Your session has ended or was not opened here; nothing was decided',
      back,
    );
  }
  if (!checkCsrf(session, record.id, form.get('csrf'), flow.keys)) {
    flow.logger.warn('approval decision refused', { outcome: 'csrf', approvalId: record.id });
    return refusalPage(
      403,
      'Form not accepted',
      'This form did not come from the approval page; nothing was decided',
      back,
    );
  }
  const result = await decideApproval(
    {
      signedId,
      action: form.get('decision') ?? undefined,
      reason: form.get('reason') ?? undefined,
      person: session.person,
      teams: session.teams,
    },
    { ...core, callbacks: flow.callbacks },
  );
  const approvalId = 'record' in result ? result.record?.id : undefined;
  if (result.kind === 'approved' || result.kind === 'rejected') {
    flow.logger.info('approval decided', { outcome: result.kind, approvalId, by: result.record.decidedBy });
    return decisionPage(result, flow.options);
  }
  flow.logger.warn('approval decision refused', { outcome: result.kind, approvalId });
  return problemPage(result, flow.options)!;
}

export async function signedIn(event: APIGatewayProxyEventV2, flow: Flow): Promise<Result> {
  const clear = [clearCookie(flow.cookies.signIn, flow.secure)];
  const pending = openSignIn(readCookie(event, flow.cookies.signIn), flow.keys, flow.now());
  if (!pending.ok) {
    flow.logger.warn('approval sign-in refused', { outcome: `sign-in-cookie-${pending.reason}` });
    const why =
      pending.reason === 'expired' ? 'took too long' : 'was not started from an approval page in this browser';
    return withCookies(refusalPage(400, 'Sign-in not accepted', `This sign-in ${why}`, null), clear);
  }
  const claims = pending.claims;
  const back = pageUrl(flow, claims.approval);
  const query = event.queryStringParameters ?? {};
  if (!query['state'] || !sameSecret(query['state'], claims.state)) {
    flow.logger.warn('approval sign-in refused', { outcome: 'state-mismatch', provider: claims.provider });
    return withCookies(refusalPage(400, 'Sign-in not accepted', 'The sign-in state does not match', back), clear);
  }
  if (query['error'] || !query['code']) {
    const said = (query['error'] ?? 'no code').replace(/[^a-z_ ]/gi, '').slice(0, 40);
    return withCookies(
      refusalPage(403, 'Not signed in', `${sourceName(claims.provider)} did not sign you in (${said})`, back),
      clear,
    );
  }
  const resolved = await resolveLink(claims.approval, { store: flow.store, keys: flow.keys, now: flow.now });
  if (resolved.kind !== 'ok') return withCookies(problemPage(resolved, flow.options)!, clear);
  const host = await signInOf(resolved.record, flow);
  if (!host || host.provider !== claims.provider)
    return withCookies(refusalPage(503, 'Sign-in is not set up', 'No OAuth client is configured', back), clear);
  try {
    const token = await host.exchange({
      code: query['code'],
      verifier: claims.verifier,
      redirectUri: `${flow.baseUrl}${CALLBACK_PATH}`,
    });
    const who = await host.person(token);
    const teams: Record<string, boolean> = {};
    for (const entry of teamEntries(resolved.record.approvers)) {
      teams[entry] = await host.isMember(token, who, entry.slice(1));
    }
    const session = newSession(who.person, teams, flow.now());
    flow.logger.info('approval sign-in done', { provider: claims.provider, login: who.person.login });
    return withCookies(redirect(back, 303), [
      ...clear,
      setCookie(flow.cookies.session, seal(session, flow.keys), SESSION_SECONDS, flow.secure),
    ]);
  } catch (error) {
    if (!(error instanceof SignInError)) throw error;
    flow.logger.warn('approval sign-in failed', { provider: claims.provider, reason: error.message });
    const status = error.kind === 'refused' ? 403 : 502;
    return withCookies(refusalPage(status, 'Not signed in', error.message, back), clear);
  }
}
