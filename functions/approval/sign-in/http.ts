import { SignInError } from '../../../core/approval/errors';
import type { OAuthClient } from '../../../core/approval/sign-in';

/**
 * What the three hosts' sign-ins share: where the host is, its OAuth client (read when first needed), and one
 * bounded HTTP call that turns every failure into a `SignInError` naming the host and the step. Bodies, codes and
 * tokens never reach a message.
 */
export interface SignInSettings {
  /** The host's web origin (its OAuth endpoints), without a trailing slash. */
  readonly oauthUrl: string;
  /** The host's REST API base, without a trailing slash. */
  readonly apiUrl: string;
  readonly client: OAuthClient;
  /** Per call. Default 5000 ms. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface HostAnswer {
  readonly status: number;
  readonly body: unknown;
}

export function trimUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

export async function call(
  settings: SignInSettings,
  host: string,
  step: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HostAnswer> {
  let response: Response;
  try {
    response = await (settings.fetch ?? globalThis.fetch)(url, {
      method: init.method ?? 'GET',
      headers: { 'user-agent': 'stepline-approval', ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
      signal: AbortSignal.timeout(settings.timeoutMs ?? 5000),
      redirect: 'error',
    });
  } catch (error) {
    const name = (error as { name?: string } | null)?.name;
    const why = name === 'TimeoutError' ? 'no answer in time' : 'network error';
    throw new SignInError('unavailable', `${host} ${step}: ${why}`);
  }
  const text = await response.text().catch(() => '');
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (response.status >= 500 || response.status === 429) {
    throw new SignInError('unavailable', `${host} ${step}: HTTP ${response.status}`);
  }
  return { status: response.status, body };
}

export function form(values: Record<string, string | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== null && value !== undefined) params.set(key, value);
  return params.toString();
}

/** The access token of a token endpoint's JSON answer, or a refusal that names the host's error code. */
export function accessTokenOf(answer: HostAnswer, host: string): string {
  const body = (answer.body ?? {}) as { access_token?: unknown; error?: unknown };
  if (answer.status === 200 && typeof body.access_token === 'string' && body.access_token) return body.access_token;
  const code =
    typeof body.error === 'string' ? body.error.replace(/[^a-z_]/gi, '').slice(0, 40) : `HTTP ${answer.status}`;
  throw new SignInError('refused', `${host} did not exchange the sign-in code (${code})`);
}

export function stringField(body: unknown, field: string): string | null {
  const value = (body as Record<string, unknown> | null)?.[field];
  if (typeof value === 'string' && value) return value;
  if (typeof value === 'number') return String(value);
  return null;
}
