import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * The pages' two cookies: HttpOnly, SameSite=Lax (the host's redirect back is a top-level GET, which carries
 * them; another site's POST does not), Path=/. Over HTTPS they are Secure and carry the `__Host-` prefix, which
 * browsers accept only when set Secure, without a Domain, for Path=/: no other host can plant one.
 */
export interface CookieNames {
  readonly session: string;
  readonly signIn: string;
}

export function cookieNames(secure: boolean): CookieNames {
  const prefix = secure ? '__Host-' : '';
  return { session: `${prefix}stepline-approval-session`, signIn: `${prefix}stepline-approval-sign-in` };
}

/** A cookie of the request: API Gateway's payload v2 moves them to `cookies`; a `cookie` header is read too. */
export function readCookie(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const pairs = [...(event.cookies ?? []), ...(event.headers?.['cookie']?.split(';') ?? [])];
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}

export function setCookie(name: string, value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${name}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export function clearCookie(name: string, secure: boolean): string {
  return setCookie(name, '', 0, secure);
}
