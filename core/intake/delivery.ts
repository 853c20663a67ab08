import { PROVIDERS, type Provider } from '../config/providers';
import type { WebhookSecrets } from './ports';
import { reject, type Verdict } from './verdict';

/** A request as it reached the webhook endpoint: the path's provider, the headers, the exact bytes of the body. */
export interface RawDelivery {
  /** The `{provider}` path parameter, as sent (not yet known to be a provider). */
  readonly provider: string | undefined;
  /** Header names in any case; a header sent twice arrives joined with commas, as API Gateway does. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /**
   * The body exactly as received: its bytes, or the text whose UTF-8 encoding they are (API Gateway hands JSON
   * bodies over as text; hashing and parsing the text spares an encode and a decode). Signatures are computed
   * over these bytes.
   */
  readonly body: Uint8Array | string;
  /**
   * The body's length when it was measured without being decoded (a base64 body too large to be worth decoding is
   * passed with an empty `body` and its decoded length here). Default: the length of `body` in bytes.
   */
  readonly byteLength?: number;
}

export type MediaType = 'application/json' | 'application/x-www-form-urlencoded';

/** Header names lowercased, values as sent. */
export type Headers = ReadonlyMap<string, string>;

/** A delivery that passed the envelope checks: known provider, size, headers present, acceptable content type. */
export interface Admitted {
  readonly provider: Provider;
  readonly headers: Headers;
  readonly body: Uint8Array | string;
  readonly mediaType: MediaType;
  /** The host's event name (`push`, `Push Hook`, `repo:push`, ...). */
  readonly event: string;
  readonly deliveryId: string;
}

/** The secrets a provider's deliveries may be signed with: during a rotation, the current and the previous one. */
export function secretList(secrets: WebhookSecrets | null): string[] {
  if (secrets === null) return [];
  return secrets.previous ? [secrets.current, secrets.previous] : [secrets.current];
}

export function isProvider(value: string | undefined): value is Provider {
  return value !== undefined && (PROVIDERS as readonly string[]).includes(value);
}

export function lowercaseHeaders(headers: Readonly<Record<string, string | undefined>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out.set(name.toLowerCase(), value);
  }
  return out;
}

/** The media type of a Content-Type header, lowercased, without parameters (`application/json; charset=utf-8`). */
export function mediaTypeOf(contentType: string | undefined): string | null {
  if (contentType === undefined) return null;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type.length > 0 ? type : null;
}

export function tooLarge(maxBodyBytes: number): Verdict<never> {
  return reject(413, 'body_too_large', `the body is larger than the limit of ${maxBodyBytes} bytes`);
}

export function missingHeader(name: string): Verdict<never> {
  return reject(400, 'missing_header', `missing header ${name}`);
}

export function unsupportedMediaType(given: string | null, accepted: readonly MediaType[]): Verdict<never> {
  const expected = accepted.join(' or ');
  // The header's value is not echoed: answers are logged, and headers never reach a log.
  return reject(
    415,
    'unsupported_media_type',
    given === null
      ? `missing Content-Type; expected ${expected}`
      : `the content type is not accepted; expected ${expected}`,
  );
}

export function unknownProvider(given: string | undefined): Verdict<never> {
  const name = given === undefined || given.length === 0 ? '(none)' : JSON.stringify(given.slice(0, 40));
  return reject(404, 'unknown_provider', `unknown provider ${name}; expected one of ${PROVIDERS.join(', ')}`);
}

/**
 * Parses the verified body: JSON, or a form whose `payload` field holds the JSON (GitHub's
 * `application/x-www-form-urlencoded` deliveries). The top level must be an object.
 */
export function bodyLength(body: Uint8Array | string): number {
  return typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
}

export function decodeBody(body: Uint8Array | string, mediaType: MediaType): Verdict<Record<string, unknown>> {
  let text =
    typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (mediaType === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) return reject(400, 'malformed_body', 'the form body has no payload field');
    text = payload;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return reject(400, 'malformed_body', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject(400, 'malformed_body', 'the body is not a JSON object');
  }
  return { continue: true, value: value as Record<string, unknown> };
}
