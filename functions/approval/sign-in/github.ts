import { SignInError } from '../../../core/approval/errors';
import type { SignedInPerson, SignInHost } from '../../../core/approval/sign-in';
import { accessTokenOf, call, form, type SignInSettings, stringField, trimUrl } from './http';

/**
 * GitHub's OAuth web application flow (an OAuth app, or a GitHub App's user access token: the same endpoints):
 * `GET <oauth>/login/oauth/authorize` → `POST <oauth>/login/oauth/access_token` (JSON with `Accept`; a refused
 * code answers 200 with `error`), then `GET <api>/user` (`login`) and, for `@org/team` approvers,
 * `GET <api>/orgs/{org}/teams/{team_slug}/memberships/{login}` (200 with `state: active`; 404 when not a member;
 * the token needs `read:org`). PKCE S256 is accepted since July 2025 (GitHub changelog 2025-07-14, "PKCE support
 * for OAuth and GitHub App authentication"); GitHub Enterprise Server versions before it ignore the parameters.
 */
export function githubSignIn(settings: SignInSettings): SignInHost {
  const oauth = trimUrl(settings.oauthUrl);
  const api = trimUrl(settings.apiUrl);
  const headers = (token: string) => ({
    accept: 'application/vnd.github+json',
    authorization: `Bearer ${token}`,
    'x-github-api-version': '2022-11-28',
  });
  return {
    provider: 'github',
    pkce: true,
    authorizeUrl({ state, challenge, redirectUri, teams }) {
      const query = form({
        client_id: settings.client.clientId,
        redirect_uri: redirectUri,
        scope: teams ? 'read:org' : null,
        state,
        allow_signup: 'false',
        code_challenge: challenge,
        code_challenge_method: challenge ? 'S256' : null,
      });
      return `${oauth}/login/oauth/authorize?${query}`;
    },
    async exchange({ code, verifier, redirectUri }) {
      const answer = await call(settings, 'GitHub', 'token exchange', `${oauth}/login/oauth/access_token`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: form({
          client_id: settings.client.clientId,
          client_secret: settings.client.clientSecret,
          code,
          redirect_uri: redirectUri,
          code_verifier: verifier,
        }),
      });
      return accessTokenOf(answer, 'GitHub');
    },
    async person(token): Promise<SignedInPerson> {
      const answer = await call(settings, 'GitHub', 'GET /user', `${api}/user`, { headers: headers(token) });
      const login = answer.status === 200 ? stringField(answer.body, 'login') : null;
      if (!login) throw new SignInError('refused', `GitHub did not say who signed in (HTTP ${answer.status})`);
      return { person: { source: 'github', login, names: [login] }, hostId: login };
    },
    async isMember(token, who, team) {
      const [org, slug, ...rest] = team.split('/');
      if (!org || !slug || rest.length) return false;
      const path = `/orgs/${encodeURIComponent(org)}/teams/${encodeURIComponent(slug)}/memberships/${encodeURIComponent(who.hostId)}`;
      const answer = await call(settings, 'GitHub', 'team membership', `${api}${path}`, { headers: headers(token) });
      if (answer.status === 200) return stringField(answer.body, 'state') === 'active';
      if (answer.status === 404 || answer.status === 403) return false;
      throw new SignInError('unavailable', `GitHub team membership: HTTP ${answer.status}`);
    },
  };
}
