import { SignInError } from '../../../core/approval/errors';
import type { SignedInPerson, SignInHost } from '../../../core/approval/sign-in';
import { accessTokenOf, call, form, type SignInSettings, stringField, trimUrl } from './http';

/**
 * Bitbucket Cloud's OAuth 2.0 (an OAuth consumer, developer.atlassian.com/cloud/bitbucket/oauth-2):
 * `GET <oauth>/site/oauth2/authorize?client_id&response_type=code` → `POST <oauth>/site/oauth2/access_token` with
 * the consumer as HTTP Basic credentials (`grant_type=authorization_code&code`); no PKCE (Bitbucket Cloud takes no
 * challenge) and no scope parameter (a consumer's permissions are its scopes: it needs `account`). Then
 * `GET <api>/user` (`account_id`, `uuid`, `nickname`) and, for `@workspace` approvers,
 * `GET <api>/workspaces/{workspace}/members/{uuid}` (404 when not a member). Nicknames are not unique, so a login
 * entry of `approvers` matches the account id or the UUID; the nickname is what the pages show.
 */
export function bitbucketSignIn(settings: SignInSettings): SignInHost {
  const oauth = trimUrl(settings.oauthUrl);
  const api = trimUrl(settings.apiUrl);
  const headers = (token: string) => ({ accept: 'application/json', authorization: `Bearer ${token}` });
  return {
    provider: 'bitbucket',
    pkce: false,
    authorizeUrl({ state, redirectUri }) {
      const query = form({
        client_id: settings.client.clientId,
        response_type: 'code',
        state,
        redirect_uri: redirectUri,
      });
      return `${oauth}/site/oauth2/authorize?${query}`;
    },
    async exchange({ code, redirectUri }) {
      const basic = Buffer.from(`${settings.client.clientId}:${settings.client.clientSecret}`).toString('base64');
      const answer = await call(settings, 'Bitbucket', 'token exchange', `${oauth}/site/oauth2/access_token`, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: form({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }),
      });
      return accessTokenOf(answer, 'Bitbucket');
    },
    async person(token): Promise<SignedInPerson> {
      const answer = await call(settings, 'Bitbucket', 'GET /user', `${api}/user`, { headers: headers(token) });
      const body = answer.status === 200 ? answer.body : null;
      const uuid = stringField(body, 'uuid');
      const accountId = stringField(body, 'account_id');
      if (!uuid) throw new SignInError('refused', `Bitbucket did not say who signed in (HTTP ${answer.status})`);
      const login = stringField(body, 'nickname') ?? stringField(body, 'display_name') ?? accountId ?? uuid;
      const names = [accountId, uuid].filter((n): n is string => n !== null);
      return { person: { source: 'bitbucket', login, names }, hostId: uuid };
    },
    async isMember(token, who, workspace) {
      if (!workspace || workspace.includes('/')) return false;
      const path = `/workspaces/${encodeURIComponent(workspace)}/members/${encodeURIComponent(who.hostId)}`;
      const answer = await call(settings, 'Bitbucket', 'workspace membership', `${api}${path}`, {
        headers: headers(token),
      });
      if (answer.status === 200) return true;
      if (answer.status === 404 || answer.status === 403) return false;
      throw new SignInError('unavailable', `Bitbucket workspace membership: HTTP ${answer.status}`);
    },
  };
}
