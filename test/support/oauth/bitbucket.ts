import { back, basicClient, bearer, comment, member, newCode, newToken, type Route, redeem } from './state';

/**
 * Bitbucket Cloud's side (developer.atlassian.com/cloud/bitbucket/oauth-2): `GET /site/oauth2/authorize`
 * (`response_type=code`; back to the consumer's callback URL; no PKCE), `POST /site/oauth2/access_token` with the
 * consumer as HTTP Basic credentials (400 `invalid_grant`, 401 `invalid_client`; the answer names its scopes in
 * `scopes`), `GET /2.0/user` (`uuid`, `account_id`, `nickname`; scope `account`), `GET /2.0/workspaces/{workspace}/
 * members/{member}` (404 when not a member), and the reply comments: `POST /2.0/repositories/{ws}/{slug}/
 * pullrequests/{id}/comments` and `POST /2.0/repositories/{ws}/{slug}/commit/{sha}/comments`.
 */
let commentIds = 9000;

export const bitbucketRoutes: Route = (req, state) => {
  const { client, callbackUrl } = state.options;
  if (req.method === 'GET' && req.path === '/site/oauth2/authorize') {
    const q = req.query;
    if (q.get('client_id') !== client.clientId) return { status: 400, body: { error: 'invalid_client' } };
    const redirect = q.get('redirect_uri');
    if (redirect !== null && !redirect.startsWith(callbackUrl)) {
      return { status: 400, body: { error: 'invalid_request', error_description: 'redirect_uri does not match' } };
    }
    if (q.get('response_type') !== 'code')
      return back(callbackUrl, { error: 'unsupported_response_type', state: q.get('state') });
    if (state.consent !== 'allow')
      return back(redirect ?? callbackUrl, { error: state.consent, state: q.get('state') });
    const code = newCode(state, { redirectUri: redirect, challenge: null, method: null, scopes: ['account'] });
    return back(redirect ?? callbackUrl, { code, state: q.get('state') });
  }
  if (req.method === 'POST' && req.path === '/site/oauth2/access_token') {
    const credentials = basicClient(req);
    if (credentials?.id !== client.clientId || credentials.secret !== client.clientSecret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Invalid OAuth client credentials' } };
    }
    const form = new URLSearchParams(req.body);
    if (form.get('grant_type') !== 'authorization_code')
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    const redeemed = redeem(state, form.get('code'), form.get('redirect_uri'), null, true);
    if (!redeemed.ok)
      return {
        status: 400,
        body: { error: 'invalid_grant', error_description: `${form.get('code') ?? ''} is not a valid code` },
      };
    const token = newToken(state, redeemed.issued);
    return {
      status: 200,
      body: {
        access_token: token,
        scopes: 'account',
        expires_in: 7200,
        refresh_token: `r-${token}`,
        token_type: 'bearer',
        state: 'authorization_code',
      },
    };
  }
  if (
    req.method === 'POST' &&
    /^\/2\.0\/repositories\/[^/]+\/[^/]+\/(pullrequests\/\d+|commit\/[0-9a-f]{7,40})\/comments$/.test(req.path)
  ) {
    return comment(state, req.path, req.body, commentIds++);
  }
  if (req.method !== 'GET' || !req.path.startsWith('/2.0/')) return null;
  const token = bearer(req, state);
  if (!token) return { status: 401, body: { type: 'error', error: { message: 'Access token expired.' } } };
  const { user } = token;
  const account = {
    type: 'user',
    uuid: user.uuid ?? `{${user.id}}`,
    account_id: user.accountId ?? String(user.id),
    nickname: user.login,
    display_name: user.login,
  };
  if (req.path === '/2.0/user') return { status: 200, body: { ...account, links: {} } };
  const membership = /^\/2\.0\/workspaces\/([^/]+)\/members\/([^/]+)$/.exec(req.path);
  if (membership) {
    const workspace = decodeURIComponent(membership[1]!);
    const who = decodeURIComponent(membership[2]!);
    const target = state.options.users.find(
      (u) => (u.uuid ?? `{${u.id}}`) === who || (u.accountId ?? String(u.id)) === who,
    );
    if (!target || !member(state, workspace, target.login)) {
      return { status: 404, body: { type: 'error', error: { message: `${who} is not a member of ${workspace}` } } };
    }
    return {
      status: 200,
      body: { type: 'workspace_membership', user: account, workspace: { type: 'workspace', slug: workspace } },
    };
  }
  return null;
};
