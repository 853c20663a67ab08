import { SignInError } from '../../../core/approval/errors';
import type { SignedInPerson, SignInHost } from '../../../core/approval/sign-in';
import { accessTokenOf, call, form, type SignInSettings, stringField, trimUrl } from './http';

/**
 * GitLab's OAuth 2.0 authorization code flow with PKCE (docs.gitlab.com/api/oauth2): `GET <oauth>/oauth/authorize`
 * (`response_type=code`, `scope`, `code_challenge`, `code_challenge_method=S256`) → `POST <oauth>/oauth/token`
 * (`grant_type=authorization_code`, `code_verifier`; 400 `invalid_grant` when refused), then `GET <api>/user`
 * (`username`, `id`; scope `read_user`) and, for `@group/sub` approvers, `GET <api>/groups/{path}/members/all/{id}`
 * (inherited members too; 404 when not a member; scope `read_api`). A member counts from Guest (access level 10)
 * up; "minimal access" (5) does not.
 */
const GUEST = 10;

export function gitlabSignIn(settings: SignInSettings): SignInHost {
  const oauth = trimUrl(settings.oauthUrl);
  const api = trimUrl(settings.apiUrl);
  const headers = (token: string) => ({ accept: 'application/json', authorization: `Bearer ${token}` });
  return {
    provider: 'gitlab',
    pkce: true,
    authorizeUrl({ state, challenge, redirectUri, teams }) {
      const query = form({
        client_id: settings.client.clientId,
        redirect_uri: redirectUri,
        response_type: 'code',
        state,
        scope: teams ? 'read_user read_api' : 'read_user',
        code_challenge: challenge,
        code_challenge_method: challenge ? 'S256' : null,
      });
      return `${oauth}/oauth/authorize?${query}`;
    },
    async exchange({ code, verifier, redirectUri }) {
      const answer = await call(settings, 'GitLab', 'token exchange', `${oauth}/oauth/token`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: form({
          client_id: settings.client.clientId,
          client_secret: settings.client.clientSecret,
          code,
          grant_type: 'authorization_code',
          redirect_uri: redirectUri,
          code_verifier: verifier,
        }),
      });
      return accessTokenOf(answer, 'GitLab');
    },
    async person(token): Promise<SignedInPerson> {
      const answer = await call(settings, 'GitLab', 'GET /user', `${api}/user`, { headers: headers(token) });
      const username = answer.status === 200 ? stringField(answer.body, 'username') : null;
      const id = answer.status === 200 ? stringField(answer.body, 'id') : null;
      if (!username || !id)
        throw new SignInError('refused', `GitLab did not say who signed in (HTTP ${answer.status})`);
      return { person: { source: 'gitlab', login: username, names: [username] }, hostId: id };
    },
    async isMember(token, who, group) {
      if (!group || group.split('/').some((part) => !part)) return false;
      const path = `/groups/${encodeURIComponent(group)}/members/all/${encodeURIComponent(who.hostId)}`;
      const answer = await call(settings, 'GitLab', 'group membership', `${api}${path}`, { headers: headers(token) });
      if (answer.status === 200) {
        const level = Number(stringField(answer.body, 'access_level'));
        const state = stringField(answer.body, 'state');
        return level >= GUEST && (state === null || state === 'active');
      }
      if (answer.status === 404 || answer.status === 403) return false;
      throw new SignInError('unavailable', `GitLab group membership: HTTP ${answer.status}`);
    },
  };
}
