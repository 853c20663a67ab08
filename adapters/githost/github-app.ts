import { createSign } from 'node:crypto';
import { StatusDeliveryError } from '../../core/status/errors';
import type { HostRequest, HostResponse, HostTransport } from '../../core/status/hosts';
import { HttpHostTransport, type HttpTransportOptions } from './http';

/**
 * Stepline as a GitHub App (ADR 0091): requests carry an installation access token, made from the App's id and
 * private key, and statuses go through the Checks API (`checks: true`), which only an App may write.
 *
 * - The App authenticates with a JWT (RS256; `iat` 60 s in the past for clock drift, `exp` at most 10 minutes
 *   ahead, `iss` the App's id): GitHub's "Generating a JSON Web Token (JWT) for a GitHub App".
 * - `GET /repos/{owner}/{repo}/installation` (as the App) names the installation on the repository's account;
 *   `POST /app/installations/{installation_id}/access_tokens` gives a token valid for an hour. Tokens are kept per
 *   account until five minutes before they expire; concurrent first requests share one exchange.
 * - Neither the key, the JWT nor a token is ever logged: log lines name the provider, method, path and status.
 */

export interface GitHubAppOptions extends Omit<HttpTransportOptions, 'provider' | 'credential'> {
  readonly appId: string;
  /** PEM (PKCS#1 `RSA PRIVATE KEY`, as GitHub downloads it, or PKCS#8). */
  readonly privateKey: string;
}

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** The App's JWT at `nowSeconds`: RS256, `iat` now - 60, `exp` now + 540, `iss` the App's id. */
export function appJwt(appId: string, privateKey: string, nowSeconds: number): string {
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify({ iat: nowSeconds - 60, exp: nowSeconds + 540, iss: appId }));
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey);
  return `${header}.${payload}.${base64url(signature)}`;
}

/** The owner and name of the repository a request is about (`/repos/{owner}/{repo}/…`), or null. */
export function repositoryOfPath(path: string): { owner: string; repo: string } | null {
  const match = /^\/repos\/([^/]+)\/([^/]+)(\/|$)/.exec(path);
  return match ? { owner: decodeURIComponent(match[1]!), repo: decodeURIComponent(match[2]!) } : null;
}

interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

const REFRESH_BEFORE_MS = 5 * 60_000;

export class GitHubAppTransport implements HostTransport {
  public readonly provider = 'github' as const;
  public readonly checks = true;
  readonly #options: GitHubAppOptions;
  readonly #tokens = new Map<string, Promise<Token>>();

  public constructor(options: GitHubAppOptions) {
    this.#options = options;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #http(token: string): HttpHostTransport {
    return new HttpHostTransport({ ...this.#options, provider: 'github', credential: { scheme: 'bearer', token } });
  }

  async #exchange(owner: string, repo: string): Promise<Token> {
    const jwt = appJwt(this.#options.appId, this.#options.privateKey, Math.floor(this.#now() / 1000));
    const asApp = this.#http(jwt);
    const installation = await asApp.send({
      method: 'GET',
      path: `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/installation`,
    });
    const id = (installation.body as { id?: unknown } | null)?.id;
    if (installation.status !== 200 || typeof id !== 'number') {
      throw new StatusDeliveryError(
        `github: the App is not installed on ${owner}/${repo} (HTTP ${installation.status})`,
        installation.status,
      );
    }
    const answer = await asApp.send({ method: 'POST', path: `/app/installations/${id}/access_tokens`, body: {} });
    const body = answer.body as { token?: unknown; expires_at?: unknown } | null;
    if (answer.status !== 201 || typeof body?.token !== 'string') {
      throw new StatusDeliveryError(
        `github: no installation token for ${owner} (HTTP ${answer.status})`,
        answer.status,
      );
    }
    const expiresAt = typeof body.expires_at === 'string' ? Date.parse(body.expires_at) : Number.NaN;
    return { value: body.token, expiresAt: Number.isNaN(expiresAt) ? this.#now() + 55 * 60_000 : expiresAt };
  }

  /** The installation token of the repository's account: kept, refreshed five minutes before it expires. */
  async #token(owner: string, repo: string): Promise<string> {
    const key = owner.toLowerCase();
    const cached = this.#tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => null);
      if (token && token.expiresAt - this.#now() > REFRESH_BEFORE_MS) return token.value;
      if (this.#tokens.get(key) !== cached) return this.#token(owner, repo);
    }
    const next = this.#exchange(owner, repo);
    this.#tokens.set(key, next);
    next.catch(() => {
      if (this.#tokens.get(key) === next) this.#tokens.delete(key);
    });
    return (await next).value;
  }

  public async send(request: HostRequest): Promise<HostResponse> {
    const repository = repositoryOfPath(request.path);
    if (!repository) throw new StatusDeliveryError(`github: ${request.path} names no repository for the App`);
    const token = await this.#token(repository.owner, repository.repo);
    return this.#http(token).send(request);
  }
}
