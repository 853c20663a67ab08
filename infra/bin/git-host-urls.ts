import { PROVIDERS, type Provider } from '../../core/config';
import { InfraError } from '../errors';
import type { GitHostUrls } from '../stacks/stepline-stack';

/**
 * The `gitHostUrls` context (docs/adr/0117): where GitHub Enterprise Server, a self-managed GitLab (or a proxy in
 * front of Bitbucket Cloud) are, as comma-separated `<host>=<API base URL>` pairs:
 *
 *     github=https://ghe.example.com/api/v3,gitlab=https://gitlab.example.com/api/v4
 *
 * Each host's sign-in URL (its web host, where the approval pages send people to sign in with OAuth) is derived from
 * the API URL where the host's shape tells it: GitHub Enterprise Server `https://HOST/api/v3` → `https://HOST`,
 * GitHub Enterprise Cloud with data residency `https://api.SUB.ghe.com` → `https://SUB.ghe.com`, GitLab
 * `https://HOST[/path]/api/v4` → `https://HOST[/path]`, Bitbucket `https://api.HOST/2.0` → `https://HOST`. Else, or to
 * say otherwise, `<host>.oauth=<URL>` gives it. Every URL must be https (the hosts' tokens are sent to it), with no
 * user name, password, query or fragment.
 */
export const GIT_HOST_URLS_EXAMPLE = 'github=https://ghe.example.com/api/v3,gitlab=https://gitlab.example.com/api/v4';

/** Reads the context's value; `undefined` or blank: no host is moved. Throws an `InfraError` naming what is wrong. */
export function parseGitHostUrls(value: unknown, key = 'gitHostUrls'): Partial<Record<Provider, GitHostUrls>> {
  if (value === undefined || value === null || value === '') return {};
  const fail = (reason: string): never => refuse(key, reason);
  if (typeof value !== 'string') return fail(`must be a string of <host>=<URL> pairs, got ${typeof value}`);
  const api = new Map<Provider, URL>();
  const oauth = new Map<Provider, URL>();
  for (const pair of value.split(',')) {
    const item = pair.trim();
    if (item === '') continue;
    const equals = item.indexOf('=');
    if (equals <= 0) fail(`"${clip(item)}" is not <host>=<URL>`);
    const name = item.slice(0, equals).trim();
    const [host, suffix, ...rest] = name.split('.');
    const provider = PROVIDERS.find((p) => p === host);
    if (!provider || rest.length > 0 || (suffix !== undefined && suffix !== 'oauth')) {
      return fail(
        `unknown host "${clip(name)}": name github, gitlab or bitbucket, or <host>.oauth for its sign-in URL`,
      );
    }
    const target = suffix === 'oauth' ? oauth : api;
    if (target.has(provider)) fail(`${name} is given twice`);
    target.set(provider, httpsUrl(name, item.slice(equals + 1).trim(), fail));
  }
  const urls: Partial<Record<Provider, GitHostUrls>> = {};
  for (const provider of PROVIDERS) {
    const apiUrl = api.get(provider);
    const oauthUrl = oauth.get(provider);
    if (!apiUrl) {
      if (oauthUrl)
        fail(`${provider}.oauth is given without ${provider}=<API URL>: the host's API would stay the public one`);
      continue;
    }
    const signIn = oauthUrl ? base(oauthUrl) : derivedSignInUrl(provider, apiUrl);
    if (!signIn) {
      return fail(
        `the sign-in URL of ${provider}=${base(apiUrl)} cannot be told from it (${SHAPES[provider]}): ` +
          `add ${provider}.oauth=<the host's web URL>`,
      );
    }
    urls[provider] = { apiUrl: base(apiUrl), oauthUrl: signIn };
  }
  return urls;
}

function refuse(key: string, reason: string): never {
  throw new InfraError(`context ${key}: ${reason} (expected, for example, ${GIT_HOST_URLS_EXAMPLE})`);
}

/** The API URL shapes a sign-in URL is derived from, as the error names them. */
const SHAPES: Readonly<Record<Provider, string>> = {
  github: 'GitHub Enterprise Server is https://HOST/api/v3, data residency https://api.SUBDOMAIN.ghe.com',
  gitlab: 'GitLab is https://HOST/api/v4',
  bitbucket: 'Bitbucket Cloud is https://api.bitbucket.org/2.0',
};

/**
 * The host's web URL, from its API URL. GitHub Enterprise Server: REST at `http(s)://HOSTNAME/api/v3`, OAuth at
 * `http(s)://HOSTNAME/login/oauth/authorize` (GitHub Docs, "REST API endpoints for GitHub Enterprise administration"
 * and "Authorizing OAuth apps", enterprise-server). GitLab: REST at `/api/v4` under the instance's URL, OAuth at
 * `/oauth/authorize` under it (GitLab Docs, "OAuth 2.0 identity provider API").
 */
function derivedSignInUrl(provider: Provider, api: URL): string | null {
  const path = api.pathname.replace(/\/+$/, '');
  const apiSubdomain = api.hostname.startsWith('api.') ? `https://${api.host.slice('api.'.length)}` : null;
  if (provider === 'github') {
    if (path.endsWith('/api/v3')) return `${api.origin}${path.slice(0, -'/api/v3'.length)}`;
    return path === '' ? apiSubdomain : null;
  }
  if (provider === 'gitlab')
    return path.endsWith('/api/v4') ? `${api.origin}${path.slice(0, -'/api/v4'.length)}` : null;
  return path === '/2.0' ? apiSubdomain : null;
}

function httpsUrl(name: string, text: string, fail: (reason: string) => never): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(`${name}: "${clip(text)}" is not a URL`);
  }
  // Checked before anything echoes the value: a password in it stays out of the message.
  if (url.username || url.password) fail(`${name}: the URL must not carry a user name or password`);
  if (url.protocol !== 'https:') fail(`${name}: "${clip(text)}" is not https (the Git host tokens are sent to it)`);
  if (url.search || url.hash) fail(`${name}: ${base(url)} must have no query or fragment`);
  return url;
}

/** The URL without a trailing slash, as the functions read their base URLs. */
function base(url: URL): string {
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
