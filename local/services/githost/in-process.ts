import type { GitHostSink, SinkRequest } from './sink';

/**
 * The local status sink, reached in process by the runtime's own status functions.
 *
 * Without a host token, the status functions' HTTP client (adapters/githost/http.ts) posts to the sink mounted on
 * the runtime's own server. Over loopback that costs a connection, an HTTP exchange on both sides and a turn of the
 * event loop per status, on the one loop that also runs the pipeline; under a burst of deliveries the runtime's own
 * connections to itself filled its accept queue (docs/adr/0086). This `fetch` answers the sink's URLs from the
 * sink directly: the status code still builds the same request (URL, headers, JSON body) and reads the same answer
 * (status, JSON body) through the same client, retries included; only the socket is gone. Any other URL goes to
 * the real `fetch`.
 */

/** The largest body the sink reads (the HTTP route's limit). */
export const SINK_BODY_LIMIT = 256 * 1024;

/**
 * A sink request from what came over HTTP: the method, the path below the sink's mount point (as the router gives
 * it, percent-decoded once), the query (`?a=b` or empty) and the body's text (null when there is none, or it was
 * larger than the limit). A body that is not JSON is passed as null, as the sink then refuses it.
 */
export function sinkRequest(method: string, rest: string, search: string, body: string | null): SinkRequest {
  const verb = method.toUpperCase();
  let parsed: unknown = null;
  if (verb !== 'GET' && verb !== 'HEAD' && body !== null) {
    try {
      parsed = body.length === 0 ? {} : (JSON.parse(body) as unknown);
    } catch {
      parsed = null;
    }
  }
  return { method: verb, path: `/${rest}${search}`, body: parsed };
}

/** The headers of the sink's answers (the local server's JSON answers). */
export const SINK_ANSWER_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
};

function bodyText(body: unknown): string | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  throw new TypeError('the in-process sink takes a string or bytes as a request body');
}

/** A `fetch` that answers `mountUrl`'s URLs from `sink` in process, and sends any other to `fallback`. */
export function inProcessSinkFetch(sink: GitHostSink, mountUrl: string, fallback: typeof fetch = fetch): typeof fetch {
  const mount = new URL(mountUrl.replace(/\/+$/, ''));
  const prefix = `${mount.pathname.replace(/\/+$/, '')}/`;
  return async function sinkFetch(input, init) {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.origin !== mount.origin || !url.pathname.startsWith(prefix)) return fallback(input, init);
    init?.signal?.throwIfAborted();
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const text = bodyText(init?.body);
    const body = text !== null && Buffer.byteLength(text) > SINK_BODY_LIMIT ? null : text;
    let rest: string;
    try {
      rest = decodeURIComponent(url.pathname.slice(prefix.length));
    } catch {
      rest = url.pathname.slice(prefix.length);
    }
    const answer = sink.handle(sinkRequest(method, rest, url.search, body));
    return new SinkAnswer(answer.status, JSON.stringify(answer.body)) as unknown as Response;
  };
}

/**
 * The answer, as the parts of fetch's `Response` that an HTTP client reads: `status`, `ok`, `headers.get`, the
 * body once through `text()` or `json()`. A real `Response` builds web streams for its body, a third of the cost of
 * a status in process.
 */
class SinkAnswer {
  public readonly ok: boolean;
  public readonly statusText = '';
  public readonly redirected = false;
  public readonly type = 'basic';
  public readonly headers = {
    get: (name: string): string | null => SINK_ANSWER_HEADERS[name.toLowerCase()] ?? null,
    has: (name: string): boolean => Object.hasOwn(SINK_ANSWER_HEADERS, name.toLowerCase()),
  };
  public bodyUsed = false;

  public constructor(
    public readonly status: number,
    private readonly body: string,
  ) {
    this.ok = status >= 200 && status < 300;
  }

  public async text(): Promise<string> {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    this.bodyUsed = true;
    return this.body;
  }

  public async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
}
