import { back, bearer, comment, member, newCode, newToken, type Route, type RouteResult, redeem } from './state';

/**
 * GitHub's side (docs.github.com, "Authorizing OAuth apps"): `GET /login/oauth/authorize` (an unknown client is a
 * 404; a redirect URI outside the registered callback goes back to the callback with `redirect_uri_mismatch`; PKCE
 * only S256), `POST /login/oauth/access_token` (form or query; refusals answer 200 with `error`, as GitHub does;
 * JSON when asked with `Accept`, else form-encoded), `GET /api/user`, `GET /api/orgs/{org}/teams/{slug}/memberships/
 * {login}` (needs `read:org`), and the reply comments: `POST /api/repos/{o}/{r}/issues/{n}/comments`, `POST
 * /api/repos/{o}/{r}/commits/{sha}/comments`, `POST /api/repos/{o}/{r}/issues/comments/{id}/reactions`.
 */
let commentIds = 1000;

export const githubRoutes: Route = (req, state) => {
  const { client, callbackUrl } = state.options;
  if (req.method === 'GET' && req.path === '/login/oauth/authorize') {
    const q = req.query;
    if (q.get('client_id') !== client.clientId) return { status: 404, text: 'Not Found' };
    const redirect = q.get('redirect_uri') ?? callbackUrl;
    if (!redirect.startsWith(callbackUrl)) {
      return back(callbackUrl, { error: 'redirect_uri_mismatch', state: q.get('state') });
    }
    if (state.consent !== 'allow') return back(redirect, { error: state.consent, state: q.get('state') });
    const method = q.get('code_challenge_method');
    if (q.get('code_challenge') && method !== 'S256') {
      return back(redirect, { error: 'invalid_request', state: q.get('state') });
    }
    const code = newCode(state, {
      redirectUri: q.get('redirect_uri'),
      challenge: q.get('code_challenge'),
      method,
      scopes: (q.get('scope') ?? '').split(/[ ,]+/).filter(Boolean),
    });
    return back(redirect, { code, state: q.get('state') });
  }
  if (req.method === 'POST' && req.path === '/login/oauth/access_token') {
    const form = new URLSearchParams(req.body || req.query.toString());
    const json = String(req.headers.accept ?? '').includes('application/json');
    const answer = (fields: Record<string, string>): RouteResult =>
      json ? { status: 200, body: fields } : { status: 200, text: new URLSearchParams(fields).toString() };
    if (form.get('client_id') !== client.clientId || form.get('client_secret') !== client.clientSecret) {
      return answer({
        error: 'incorrect_client_credentials',
        error_description: 'The client_id and/or client_secret passed are incorrect.',
      });
    }
    const redeemed = redeem(state, form.get('code'), form.get('redirect_uri'), form.get('code_verifier'), true);
    if (!redeemed.ok) {
      const error = redeemed.error === 'invalid_grant' ? 'bad_verification_code' : redeemed.error;
      return answer({ error, error_description: 'The code passed is incorrect or expired.' });
    }
    const token = newToken(state, redeemed.issued);
    return answer({ access_token: token, scope: redeemed.issued.scopes.join(','), token_type: 'bearer' });
  }
  if (req.path.startsWith('/api/repos/') && req.method === 'POST') {
    if (/^\/api\/repos\/[^/]+\/[^/]+\/(issues\/\d+|commits\/[0-9a-f]{7,40})\/comments$/.test(req.path)) {
      return comment(state, req.path, req.body, commentIds++);
    }
    if (/^\/api\/repos\/[^/]+\/[^/]+\/(issues\/comments|comments)\/\d+\/reactions$/.test(req.path)) {
      return comment(state, req.path, req.body, commentIds++);
    }
  }
  if (req.method !== 'GET' || !req.path.startsWith('/api/')) return null;
  const token = bearer(req, state);
  if (!token)
    return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } };
  if (req.path === '/api/user') {
    const { user } = token;
    return {
      status: 200,
      body: { login: user.login, id: user.id, node_id: `U_${user.id}`, type: 'User', site_admin: false },
    };
  }
  const pull = /^\/api\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/.exec(req.path);
  if (pull) {
    const found = state.options.pullRequests?.[Number(pull[3])];
    if (!found) return { status: 404, body: { message: 'Not Found' } };
    const base = `${pull[1]}/${pull[2]}`;
    return {
      status: 200,
      body: {
        number: Number(pull[3]),
        head: { sha: found.sha, repo: { full_name: found.fork ? `someone-else/${pull[2]}` : base } },
        base: { repo: { full_name: base } },
      },
    };
  }
  const membership = /^\/api\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(req.path);
  if (membership) {
    if (!token.scopes.some((s) => ['read:org', 'write:org', 'admin:org'].includes(s))) {
      return { status: 403, body: { message: 'This API requires the read:org scope' } };
    }
    const [, org, slug, login] = membership.map(decodeURIComponent) as [string, string, string, string];
    if (!member(state, `${org}/${slug}`, login)) return { status: 404, body: { message: 'Not Found' } };
    return { status: 200, body: { url: `${req.path}`, role: 'member', state: 'active' } };
  }
  return null;
};
