import type { Provider } from '../../core/config/schema';
import { StatusDeliveryError } from '../../core/status/errors';
import type { HostRequest, HostResponse, HostTransport } from '../../core/status/hosts';
import { authHeaders, type HostCredential } from './tokens';

/**
 * The HTTP client of the Git hosts' status APIs (node's fetch): one per provider and base URL, so GitHub
 * Enterprise (`https://ghe.example.com/api/v3`), self-managed GitLab (`https://gitlab.example.com/api/v4`) and
 * the local runtime's status sink are only a different base URL.
 *
 * - Each try has a timeout (`timeoutMs`).
 * - 429, 5xx, network errors and timeouts are tried again, up to `retries` more times, with exponential backoff
 *   and jitter; a `Retry-After` header (seconds or HTTP date) sets the wait instead.
 * - GitHub's rate limits answer 403 or 429: with `Retry-After`, that wait; with `x-ratelimit-remaining: 0`, until
 *   `x-ratelimit-reset`; a secondary rate limit without either, at least a minute (GitHub's rule).
 * - A wait longer than `maxWaitMs` is not waited for: the status is given up (and counted) rather than holding
 *   the function, since a status is worth less than the pipeline's time.
 * - Nothing about the credential is ever logged; log lines name the provider, method, path and status only.
 * - A body that is not JSON is cut at 500 characters (enough for an error message). A caller that needs the whole
 *   text (Bitbucket's `src` API answers a file raw) asks for it with `raw: true` and gets `text`, and may send a
 *   form-encoded body (`form`, Bitbucket's `POST /src`) and repeated query parameters (`queryPairs`); without them a
 *   request and its answer are exactly as before (ADR 0110).
 */

export interface HostLog {
  warn(message: string, attributes: Record<string, unknown>): void;
}

export interface HttpTransportOptions {
  readonly provider: Provider;
  readonly baseUrl: string;
  readonly credential: HostCredential;
  /** Per try. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Tries after the first. Default 3. */
  readonly retries?: number;
  /** The longest wait honoured before a retry. Default 20000 ms. */
  readonly maxWaitMs?: number;
  /** Wait before retry number `attempt` (1, 2, ...) when the host says nothing. Default 250 ms × 2^(attempt-1), ±20 %. */
  readonly backoff?: (attempt: number) => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch; for `Retry-After` dates and `x-ratelimit-reset`. */
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  readonly log?: HostLog;
  readonly userAgent?: string;
}

/** A request with what the JSON-only `HostRequest` cannot say; every field beyond it is optional. */
export interface HttpHostRequest extends HostRequest {
  /** Query parameters that repeat (`state=OPEN&state=MERGED`), sent after `query`. */
  readonly queryPairs?: readonly (readonly [string, string])[];
  /** An `application/x-www-form-urlencoded` body, fields in this order; instead of `body`. */
  readonly form?: readonly (readonly [string, string])[];
  /** Answer `text`, the whole body as received, and the `location` and `content-type` headers. */
  readonly raw?: boolean;
}

/** The answer to an `HttpHostRequest`: `body` as for any request; with `raw`, the whole text and two headers. */
export interface HttpHostResponse extends HostResponse {
  readonly text?: string;
  readonly location?: string | null;
  readonly contentType?: string | null;
}

/** A transport that carries `HttpHostRequest`s (`HttpHostTransport` does). */
export interface RawHostTransport {
  readonly provider: Provider;
  send(request: HttpHostRequest): Promise<HttpHostResponse>;
}

export const DEFAULT_BASE_URLS: Readonly<Record<Provider, string>> = {
  github: 'https://api.github.com',
  gitlab: 'https://gitlab.com/api/v4',
  bitbucket: 'https://api.bitbucket.org/2.0',
};

const RETRIED_STATUS = new Set([429, 500, 502, 503, 504]);
const GITHUB_SECONDARY_WAIT_MS = 60_000;

export function defaultBackoff(attempt: number): number {
  const base = 250 * 2 ** (attempt - 1);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Milliseconds to wait as `Retry-After` says (delta seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function sleepFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text.slice(0, 500);
  }
}

function mentionsRateLimit(body: unknown): boolean {
  const message = typeof body === 'string' ? body : (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /rate limit/i.test(message);
}

type Verdict = { readonly retry: false } | { readonly retry: true; readonly waitMs: number; readonly why: string };

export class HttpHostTransport implements HostTransport, RawHostTransport {
  public readonly provider: Provider;
  readonly #o: Required<Omit<HttpTransportOptions, 'log'>> & { log?: HostLog };

  public constructor(options: HttpTransportOptions) {
    this.provider = options.provider;
    this.#o = {
      timeoutMs: 5000,
      retries: 3,
      maxWaitMs: 20_000,
      backoff: defaultBackoff,
      sleep: sleepFor,
      now: Date.now,
      fetch: globalThis.fetch,
      userAgent: 'stepline-status',
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    };
  }

  #url(request: HttpHostRequest): string {
    const params = new URLSearchParams(request.query ?? {});
    for (const [name, value] of request.queryPairs ?? []) params.append(name, value);
    const query = request.query || request.queryPairs?.length ? `?${params.toString()}` : '';
    return `${this.#o.baseUrl}${request.path}${query}`;
  }

  #headers(request: HttpHostRequest): Record<string, string> {
    const headers: Record<string, string> = {
      'user-agent': this.#o.userAgent,
      accept: request.raw ? '*/*' : this.provider === 'github' ? 'application/vnd.github+json' : 'application/json',
      ...authHeaders(this.#o.credential),
    };
    if (this.provider === 'github') headers['x-github-api-version'] = '2022-11-28';
    if (request.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    else if (request.body !== undefined) headers['content-type'] = 'application/json';
    return headers;
  }

  #body(request: HttpHostRequest): string | undefined {
    if (request.form !== undefined)
      return new URLSearchParams(request.form.map(([k, v]): [string, string] => [k, v])).toString();
    return request.body === undefined ? undefined : JSON.stringify(request.body);
  }

  #verdict(status: number, headers: Headers, body: unknown, attempt: number): Verdict {
    const now = this.#o.now();
    const after = retryAfterMs(headers.get('retry-after'), now);
    const rateLimited =
      status === 429 ||
      (this.provider === 'github' &&
        status === 403 &&
        (after !== undefined || headers.get('x-ratelimit-remaining') === '0' || mentionsRateLimit(body)));
    if (rateLimited) {
      if (after !== undefined) return { retry: true, waitMs: after, why: `rate limited (Retry-After)` };
      const reset = Number(headers.get('x-ratelimit-reset'));
      if (headers.get('x-ratelimit-remaining') === '0' && Number.isFinite(reset) && reset > 0) {
        return { retry: true, waitMs: Math.max(0, reset * 1000 - now) + 1000, why: 'rate limit exhausted' };
      }
      if (this.provider === 'github' && mentionsRateLimit(body)) {
        return { retry: true, waitMs: GITHUB_SECONDARY_WAIT_MS * 2 ** (attempt - 1), why: 'secondary rate limit' };
      }
      return { retry: true, waitMs: this.#o.backoff(attempt), why: `HTTP ${status}` };
    }
    if (RETRIED_STATUS.has(status)) {
      return { retry: true, waitMs: after ?? this.#o.backoff(attempt), why: `HTTP ${status}` };
    }
    return { retry: false };
  }

  public async send(request: HttpHostRequest): Promise<HttpHostResponse> {
    const url = this.#url(request);
    const where = { provider: this.provider, method: request.method, path: request.path };
    for (let attempt = 1; ; attempt++) {
      let verdict: Verdict;
      let last: { status?: number; message: string };
      try {
        const response = await this.#o.fetch(url, {
          method: request.method,
          headers: this.#headers(request),
          body: this.#body(request),
          signal: AbortSignal.timeout(this.#o.timeoutMs),
          redirect: 'error',
        });
        const text = await response.text();
        const body = parseBody(text);
        verdict = this.#verdict(response.status, response.headers, body, attempt);
        if (!verdict.retry) {
          if (!request.raw) return { status: response.status, body };
          const { headers } = response;
          return {
            status: response.status,
            body,
            text,
            location: headers.get('location'),
            contentType: headers.get('content-type'),
          };
        }
        last = { status: response.status, message: verdict.why };
      } catch (error) {
        const name = (error as { name?: string } | null)?.name;
        const why =
          name === 'TimeoutError' || name === 'AbortError'
            ? `no answer within ${this.#o.timeoutMs} ms`
            : `network error: ${(error as Error)?.message ?? String(error)}`;
        verdict = { retry: true, waitMs: this.#o.backoff(attempt), why };
        last = { message: why };
      }
      if (attempt > this.#o.retries) {
        throw new StatusDeliveryError(
          `${this.provider} ${request.method} ${request.path}: ${last.message}, still after ${attempt} tries`,
          last.status,
        );
      }
      if (verdict.waitMs > this.#o.maxWaitMs) {
        throw new StatusDeliveryError(
          `${this.provider} ${request.method} ${request.path}: ${last.message}; asked to wait ${Math.ceil(verdict.waitMs / 1000)} s, more than the ${Math.ceil(this.#o.maxWaitMs / 1000)} s allowed`,
          last.status,
        );
      }
      this.#o.log?.warn('git host request will be retried', {
        ...where,
        reason: last.message,
        attempt,
        waitMs: verdict.waitMs,
      });
      await this.#o.sleep(verdict.waitMs);
    }
  }
}
