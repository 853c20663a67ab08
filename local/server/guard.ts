import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { HttpError } from './http';

/**
 * What every request to the local server must be before it is routed (docs/adr/0087):
 *
 * - for this server: its `Host` is one of the addresses the server serves (the address it listens on, with its
 *   port; `localhost` and the loopback addresses for a loopback server; the public URL's host; the configured
 *   list). A page of another site whose name an attacker points at 127.0.0.1 (DNS rebinding) sends its own name
 *   as Host, and is refused (403) before it can read the console or act.
 * - for a request that can change something (any method but GET, HEAD and OPTIONS): not sent by a page of
 *   another origin. Browsers say where a request comes from: `Sec-Fetch-Site` (`same-origin`, or `none` for what
 *   the person typed) and `Origin`, whose host must be this request's Host (`null`, which a page with
 *   `Referrer-Policy: no-referrer` sends for its own forms, only with `Sec-Fetch-Site: same-origin`). Git hosts, the AWS SDK and CLI, and
 *   `stepline` send neither, and pass; what they send is checked by the route (a signature, SigV4 where required,
 *   a JSON content type).
 *
 * GET requests from other sites stay allowed: an approval link is followed from the Git host's page.
 */

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `name:port` or, where the value names no port, `name`; lower case; null for what is not a host. */
function normalize(value: string): string | null {
  const text = value.trim().toLowerCase();
  if (!text) return null;
  try {
    const url = new URL(`http://${text}`);
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return null;
    const explicit = /:\d+$/.test(text) && !text.endsWith(']');
    return explicit
      ? `${url.hostname}:${text.slice(text.lastIndexOf(':') + 1).replace(/^0+(?=\d)/, '')}`
      : url.hostname;
  } catch {
    return null;
  }
}

/** The forms a Host header takes for `name` on `port`: with the port, and without it on 80 and 443. */
function forms(name: string, port: number): string[] {
  const withPort = normalize(`${name}:${port}`);
  const bare = normalize(name);
  return [withPort, port === 80 || port === 443 ? bare : null].filter((v): v is string => v !== null);
}

function bracketed(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** Whether `host` is a loopback name or address (the default, safe, listening address). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * The loopback names. `sync-localhost`: the AWS SDKs and CLI send StartSyncExecution and TestState to the endpoint's
 * host with the `sync-` prefix (the operations' `hostPrefix` in the Step Functions model). Under `.localhost`, which
 * resolves to loopback only (RFC 6761), no other site can own that name; a public name's `sync-` form is not added,
 * since anyone may register it.
 */
const LOOPBACK_NAMES = ['localhost', 'sync-localhost', '127.0.0.1', '::1'];

/**
 * The Host values the server answers: `listenHost:port` (every address of the machine when it listens on all of
 * them), the loopback names on that port for a loopback server, the public URL's host, and
 * `extra` (`name`, `name:port`; a name without a port is taken on the listening port and on 80/443).
 */
export function allowedHosts(options: {
  readonly listenHost: string;
  readonly port: number;
  readonly publicUrl?: string;
  readonly extra?: readonly string[];
}): Set<string> {
  const { port } = options;
  const names = new Set<string>([options.listenHost]);
  if (isLoopback(options.listenHost)) for (const n of LOOPBACK_NAMES) names.add(n);
  if (options.listenHost === '0.0.0.0' || options.listenHost === '::') {
    names.add(hostname());
    for (const n of LOOPBACK_NAMES) names.add(n);
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address);
  }
  const allowed = new Set<string>();
  for (const name of names) for (const form of forms(bracketed(name.replace(/^\[|\]$/g, '')), port)) allowed.add(form);
  if (options.publicUrl) {
    try {
      const url = new URL(options.publicUrl);
      const publicPort = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      for (const form of forms(url.hostname, publicPort)) allowed.add(form);
    } catch {
      // Not a URL: the runtime refuses it at start.
    }
  }
  for (const entry of options.extra ?? []) {
    const value = normalize(entry);
    if (!value) continue;
    if (value.includes(':') && !value.endsWith(']')) allowed.add(value);
    else for (const p of [port, 80, 443]) for (const form of forms(entry.trim(), p)) allowed.add(form);
  }
  return allowed;
}

/** Whether the Origin (a URL) names the host of the request's Host header (its port too, where Host has one). */
function sameHost(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return host.includes(':') && !host.endsWith(']') ? host === `${url.hostname}:${port}` : host === url.hostname;
  } catch {
    return false;
  }
}

/** The request guard of the local server (RouterOptions.guard); `allowed` null: any Host (a server no browser reaches). */
export function requestGuard(allowed: ReadonlySet<string> | null): (req: IncomingMessage) => void {
  return function guardRequest(req) {
    const host = normalize(String(req.headers.host ?? '')) ?? '';
    if (allowed && !allowed.has(host)) {
      throw new HttpError(
        403,
        'host_not_allowed',
        `this server does not answer for the host ${String(req.headers.host ?? '(none)').slice(0, 100)}: add the name to STEPLINE_ALLOWED_HOSTS to reach it by that name`,
      );
    }
    if (SAFE_METHODS.has((req.method ?? 'GET').toUpperCase())) return;
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new HttpError(
        403,
        'cross_origin',
        `a page of another site (Sec-Fetch-Site: ${site}) cannot change anything here`,
      );
    }
    // `Origin: null` is what a form of a page with `Referrer-Policy: no-referrer` sends (the approval page's): it
    // says nothing, and counts only where Sec-Fetch-Site does not say same-origin.
    const origin = req.headers.origin;
    if (origin !== undefined && !(origin === 'null' && site === 'same-origin') && !sameHost(origin, host)) {
      throw new HttpError(403, 'cross_origin', `a page of another origin (${origin}) cannot change anything here`);
    }
  };
}
