import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Provider } from '../../../core/config/schema';
import { bitbucketRoutes } from './bitbucket';
import { githubRoutes } from './github';
import { gitlabRoutes } from './gitlab';
import type { OAuthStandInOptions, RecordedCall, Route, StandInState } from './state';

export type { OAuthStandInOptions, StandInUser } from './state';

/**
 * A stand-in for one Git host's OAuth 2.0 authorization server and the API calls that follow a sign-in, on
 * 127.0.0.1 (GitHub: `/login/oauth/*` and `/api/*`; GitLab: `/oauth/*` and `/api/v4/*`; Bitbucket:
 * `/site/oauth2/*` and `/2.0/*`). Faithful to the documented shapes where a client could tell: the authorize
 * endpoint checks the client and the redirect URI and consents at once for the signed-in test user; the token
 * endpoint checks the client's credentials, that the code is one it issued, unused and unexpired, for the same
 * redirect URI, and the PKCE verifier against the challenge; tokens carry the scopes asked for, and the API refuses
 * what they do not cover. It also takes reply comments (for comment commands) and records every request.
 */

const ROUTES: Readonly<Record<Provider, Route>> = {
  github: githubRoutes,
  gitlab: gitlabRoutes,
  bitbucket: bitbucketRoutes,
};

export class OAuthStandIn {
  readonly #server: Server;
  readonly #state: StandInState;
  readonly #calls: RecordedCall[] = [];
  #url = '';

  public constructor(options: OAuthStandInOptions) {
    this.#state = {
      options,
      codes: new Map(),
      tokens: new Map(),
      comments: [],
      signedIn: options.users[0]!,
      consent: 'allow',
      now: Date.now,
    };
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#platformToken();
  }

  #platformToken(): void {
    const { platformToken } = this.#state.options;
    if (platformToken) {
      this.#state.tokens.set(platformToken, {
        user: { login: 'stepline-bot', id: 999, uuid: '{stepline-bot}', accountId: '557058:stepline-bot' },
        scopes: ['repo', 'read:org', 'api', 'read_api', 'read_user', 'account'],
      });
    }
  }

  public get provider(): Provider {
    return this.#state.options.provider;
  }

  /** The host's web origin (its OAuth endpoints). */
  public get oauthUrl(): string {
    return this.#url;
  }

  /** The host's API base, as the hosts spell it. */
  public get apiUrl(): string {
    return { github: `${this.#url}/api`, gitlab: `${this.#url}/api/v4`, bitbucket: `${this.#url}/2.0` }[this.provider];
  }

  public async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  public async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The callback URL registered for the client, once the pages' address is known (a runtime on a free port). */
  public register(callbackUrl: string): void {
    this.#state.options = { ...this.#state.options, callbackUrl };
  }

  /** Who the next sign-in signs in as (the auto-consent's user). */
  public signInAs(login: string): void {
    const user = this.#state.options.users.find((u) => u.login === login);
    if (!user) throw new Error(`the stand-in has no user ${login}`);
    this.#state.signedIn = user;
  }

  /** What the user answers at the consent screen. */
  public consent(answer: 'allow' | 'access_denied'): void {
    this.#state.consent = answer;
  }

  /** Moves the stand-in's clock (codes expire after 10 minutes). */
  public setNow(now: () => number): void {
    this.#state.now = now;
  }

  public calls(path?: RegExp): RecordedCall[] {
    return path ? this.#calls.filter((c) => path.test(c.path)) : [...this.#calls];
  }

  /** The reply comments posted, oldest first. */
  public comments(): { path: string; body: unknown }[] {
    return [...this.#state.comments];
  }

  public reset(): void {
    this.#calls.length = 0;
    this.#state.comments.length = 0;
    this.#state.codes.clear();
    this.#state.tokens.clear();
    this.#platformToken();
    this.#state.signedIn = this.#state.options.users[0]!;
    this.#state.consent = 'allow';
    this.#state.now = Date.now;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.#url);
    const request = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
    };
    this.#calls.push({
      method: request.method,
      path: request.path,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
      body,
    });
    const answer = ROUTES[this.provider](request, this.#state) ?? {
      status: 404,
      body: { message: `the stand-in serves no ${request.method} ${request.path}` },
    };
    const text = answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
    res.writeHead(answer.status, {
      ...(answer.text === undefined && answer.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...answer.headers,
    });
    res.end(text);
  }
}

export async function startOAuthStandIn(options: OAuthStandInOptions): Promise<OAuthStandIn> {
  return new OAuthStandIn(options).start();
}
