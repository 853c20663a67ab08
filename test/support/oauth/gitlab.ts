import { back, bearer, comment, member, newCode, newToken, type Route, redeem } from './state';

/**
 * GitLab's side (docs.gitlab.com/api/oauth2): `GET /oauth/authorize` (`response_type=code` required; an unknown
 * client or a redirect URI other than the registered one is refused on GitLab's own page), `POST /oauth/token`
 * (`grant_type=authorization_code`; 401 `invalid_client`, 400 `invalid_grant`), `GET /api/v4/user` (`read_user`),
 * `GET /api/v4/groups/{path}/members/all/{id}` (`read_api`), and the reply notes: `POST /api/v4/projects/{id}/
 * merge_requests/{iid}/notes` and `POST /api/v4/projects/{id}/repository/commits/{sha}/comments`.
 */
let noteIds = 5000;

export const gitlabRoutes: Route = (req, state) => {
  const { client, callbackUrl } = state.options;
  if (req.method === 'GET' && req.path === '/oauth/authorize') {
    const q = req.query;
    if (q.get('client_id') !== client.clientId || q.get('redirect_uri') !== callbackUrl) {
      return { status: 400, text: 'The redirect URI included is not valid. (or the client is unknown)' };
    }
    if (q.get('response_type') !== 'code')
      return back(callbackUrl, { error: 'unsupported_response_type', state: q.get('state') });
    if (state.consent !== 'allow') return back(callbackUrl, { error: state.consent, state: q.get('state') });
    const method = q.get('code_challenge_method');
    if (q.get('code_challenge') && method !== 'S256' && method !== 'plain') {
      return back(callbackUrl, { error: 'invalid_request', state: q.get('state') });
    }
    const code = newCode(state, {
      redirectUri: callbackUrl,
      challenge: q.get('code_challenge'),
      method,
      scopes: (q.get('scope') ?? 'api').split(' ').filter(Boolean),
    });
    return back(callbackUrl, { code, state: q.get('state') });
  }
  if (req.method === 'POST' && req.path === '/oauth/token') {
    const form = new URLSearchParams(req.body);
    if (form.get('client_id') !== client.clientId || form.get('client_secret') !== client.clientSecret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed.' } };
    }
    if (form.get('grant_type') !== 'authorization_code')
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    const redeemed = redeem(state, form.get('code'), form.get('redirect_uri'), form.get('code_verifier'));
    if (!redeemed.ok) {
      return {
        status: 400,
        body: {
          error: 'invalid_grant',
          error_description:
            'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
        },
      };
    }
    const token = newToken(state, redeemed.issued);
    return {
      status: 200,
      body: {
        access_token: token,
        token_type: 'Bearer',
        expires_in: 7200,
        refresh_token: `refresh-${token}`,
        scope: redeemed.issued.scopes.join(' '),
        created_at: Math.floor(state.now() / 1000),
      },
    };
  }
  if (
    req.method === 'POST' &&
    /^\/api\/v4\/projects\/[^/]+\/(merge_requests\/\d+\/notes|repository\/commits\/[0-9a-f]{7,40}\/comments)$/.test(
      req.path,
    )
  ) {
    return comment(state, req.path, req.body, noteIds++);
  }
  if (req.method !== 'GET' || !req.path.startsWith('/api/v4/')) return null;
  const token = bearer(req, state);
  if (!token) return { status: 401, body: { message: '401 Unauthorized' } };
  const may = (scope: string) => token.scopes.includes(scope) || token.scopes.includes('api');
  if (req.path === '/api/v4/user') {
    if (!may('read_user') && !may('read_api')) return { status: 403, body: { error: 'insufficient_scope' } };
    const { user } = token;
    return {
      status: 200,
      body: {
        id: user.id,
        username: user.login,
        name: user.login,
        state: 'active',
        web_url: `https://gitlab.example/${user.login}`,
      },
    };
  }
  const membership = /^\/api\/v4\/groups\/([^/]+)\/members\/all\/(\d+)$/.exec(req.path);
  if (membership) {
    if (!may('read_api')) return { status: 403, body: { error: 'insufficient_scope' } };
    const group = decodeURIComponent(membership[1]!);
    const user = state.options.users.find((u) => String(u.id) === membership[2]);
    if (!user || !member(state, group, user.login)) return { status: 404, body: { message: '404 Not found' } };
    return { status: 200, body: { id: user.id, username: user.login, state: 'active', access_level: 30 } };
  }
  return null;
};
