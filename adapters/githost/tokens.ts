import type { Provider } from '../../core/config/schema';

/**
 * Credentials for the Git hosts' APIs, and where they come from. A `TokenSource` is the port; two sources:
 * values given once (`StaticTokenSource`: the local runtime, tests, a function with no secret) and a Secrets
 * Manager secret (`tokens-secrets-manager.ts`).
 * Credentials are never logged: `describeCredential` is the only text about one that may be.
 */

/**
 * How a credential is sent:
 * - `bearer`: `Authorization: Bearer <token>` (GitHub tokens, GitLab OAuth tokens, Bitbucket access tokens);
 * - `private-token`: `PRIVATE-TOKEN: <token>` (GitLab personal, project and group access tokens);
 * - `basic`: `Authorization: Basic base64(username:password)` (Bitbucket app passwords);
 * - `none`: no header, for the public reads that need none (resolving a commit of a public repository);
 * - `github-app`: a GitHub App's id and private key; each request carries an installation token made from them
 *   (github-app.ts), and statuses go through the Checks API (ADR 0091).
 */
export type HostCredential =
  | { readonly scheme: 'none' }
  | { readonly scheme: 'github-app'; readonly appId: string; readonly privateKey: string }
  | { readonly scheme: 'bearer'; readonly token: string }
  | { readonly scheme: 'private-token'; readonly token: string }
  | { readonly scheme: 'basic'; readonly username: string; readonly password: string };

export interface TokenSource {
  /** The credential for a provider, or null when none is configured (its statuses are then skipped). */
  credential(provider: Provider): Promise<HostCredential | null>;
}

/** The headers that carry a credential. */
export function authHeaders(credential: HostCredential): Record<string, string> {
  switch (credential.scheme) {
    case 'bearer':
      return { authorization: `Bearer ${credential.token}` };
    case 'private-token':
      return { 'private-token': credential.token };
    case 'basic':
      return {
        authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`,
      };
    case 'none':
      return {};
    case 'github-app':
      // An App's requests carry installation tokens (github-app.ts), never the key: no header from it.
      return {};
  }
}

/** A loggable description of a credential: its scheme, never its value. */
export function describeCredential(credential: HostCredential | null): string {
  return credential ? credential.scheme : 'none';
}

/** GitLab personal/project/group tokens (`glpat-`, ...) go in PRIVATE-TOKEN; other GitLab tokens are OAuth. */
function gitlabScheme(token: string): 'bearer' | 'private-token' {
  return /^gl[a-z]{2,4}-/.test(token) ? 'private-token' : 'bearer';
}

/**
 * Reads one provider's credential from a JSON value: a string (the token), or an object
 * `{token, scheme?}` / `{username, appPassword}`.
 */
export function credentialFromJson(provider: Provider, value: unknown): HostCredential | null {
  if (typeof value === 'string' && value.trim()) {
    const token = value.trim();
    return provider === 'gitlab' ? { scheme: gitlabScheme(token), token } : { scheme: 'bearer', token };
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (provider === 'github' && (typeof v.appId === 'string' || typeof v.appId === 'number')) {
    const appId = String(v.appId).trim();
    if (appId && typeof v.privateKey === 'string' && v.privateKey.includes('PRIVATE KEY')) {
      return { scheme: 'github-app', appId, privateKey: v.privateKey };
    }
    return null;
  }
  if (typeof v.username === 'string' && typeof v.appPassword === 'string' && v.username && v.appPassword) {
    return { scheme: 'basic', username: v.username, password: v.appPassword };
  }
  if (typeof v.token === 'string' && v.token.trim()) {
    const token = v.token.trim();
    if (v.scheme === 'private-token' || v.scheme === 'bearer') return { scheme: v.scheme, token };
    return credentialFromJson(provider, token);
  }
  return null;
}

/**
 * The credentials given as values (the status functions read them from their environment, STATUS_ENV's token
 * variables; the local runtime from its own): a token per provider, as a string or the JSON of `credentialFromJson`,
 * or a Bitbucket user name with an app password.
 */
export interface TokenValues {
  readonly github?: string | null;
  readonly gitlab?: string | null;
  readonly bitbucket?: string | null;
  readonly bitbucketUsername?: string | null;
  readonly bitbucketAppPassword?: string | null;
  /** A GitHub App (its id and PEM private key): statuses go through the Checks API. */
  readonly githubAppId?: string | null;
  readonly githubAppPrivateKey?: string | null;
}

/** Credentials from values given once (no secret to read). */
export class StaticTokenSource implements TokenSource {
  readonly #values: TokenValues;

  public constructor(values: TokenValues) {
    this.#values = values;
  }

  public async credential(provider: Provider): Promise<HostCredential | null> {
    const values = this.#values;
    switch (provider) {
      case 'github':
        if (values.githubAppId && values.githubAppPrivateKey) {
          return credentialFromJson('github', { appId: values.githubAppId, privateKey: values.githubAppPrivateKey });
        }
        return credentialFromJson('github', values.github);
      case 'gitlab':
        return credentialFromJson('gitlab', values.gitlab);
      case 'bitbucket':
        if (values.bitbucketUsername && values.bitbucketAppPassword) {
          return { scheme: 'basic', username: values.bitbucketUsername, password: values.bitbucketAppPassword };
        }
        return credentialFromJson('bitbucket', values.bitbucket);
    }
  }
}
