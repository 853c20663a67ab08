import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signature checks over the exact bytes received. Comparisons are constant-time; digests are compared as bytes,
 * so that neither the position of the first wrong character nor the length of a token leaks.
 */

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** HMAC-SHA256 of the body (its bytes, or the text whose UTF-8 encoding they are) with the secret. */
export function hmacSha256(secret: string, body: Uint8Array | string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/**
 * Whether `header` is `sha256=<hex>` and the hex is the HMAC-SHA256 of `body` under one of `secrets`
 * (GitHub's `X-Hub-Signature-256`, Bitbucket's `X-Hub-Signature`).
 */
export function verifyHmacSha256(
  header: string | undefined,
  body: Uint8Array | string,
  secrets: readonly string[],
): boolean {
  if (header === undefined || !header.startsWith('sha256=')) return false;
  const hex = header.slice('sha256='.length).trim();
  if (!HEX_SHA256.test(hex)) return false;
  const given = Buffer.from(hex, 'hex');
  for (const secret of secrets) {
    if (timingSafeEqual(given, hmacSha256(secret, body))) return true;
  }
  return false;
}

/** Whether `token` equals one of `secrets` (GitLab's `X-Gitlab-Token`), compared as SHA-256 digests. */
export function verifyToken(token: string | undefined, secrets: readonly string[]): boolean {
  if (token === undefined || token.length === 0) return false;
  const given = createHash('sha256').update(token).digest();
  for (const secret of secrets) {
    if (timingSafeEqual(given, createHash('sha256').update(secret).digest())) return true;
  }
  return false;
}
