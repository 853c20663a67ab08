import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import type { Provider } from '../config/schema';
import type { Person } from './approvers';
import { ApprovalKeyError } from './errors';

/**
 * The approval pages' cookies (docs/adr/0037): a session (who signed in, which teams the host confirmed) and a
 * sign-in in flight (the OAuth `state`, the PKCE verifier, the link to come back to). Both are sealed with
 * AES-256-GCM under a key derived (HKDF-SHA256) from the approval signing keys, so they can be neither read nor
 * made up nor moved from one kind to the other (the kind is the additional data); keys rotate as the links' do:
 * the first seals, any opens. Each carries its own expiry; nothing is kept on the server.
 */

export const SESSION_SECONDS = 3600;
/** GitHub's authorization codes live 10 minutes; a sign-in that takes longer starts again. */
export const SIGN_IN_SECONDS = 600;

export interface SessionClaims {
  readonly kind: 'session';
  readonly person: Person;
  /** The team entries checked at sign-in (`@org/team`), and whether the person belongs to each. */
  readonly teams: Readonly<Record<string, boolean>>;
  /** Random, per session: the CSRF tokens are derived from it. */
  readonly nonce: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

export interface SignInClaims {
  readonly kind: 'sign-in';
  readonly provider: Provider;
  readonly state: string;
  /** PKCE `code_verifier` (RFC 7636), sent with the code; absent for hosts without PKCE (Bitbucket Cloud). */
  readonly verifier: string | null;
  /** The signed approval id to come back to. */
  readonly approval: string;
  readonly expiresAt: number;
}

type Claims = SessionClaims | SignInClaims;

const VERSION = 'v1';

function derive(key: string, kind: Claims['kind']): Buffer {
  return Buffer.from(hkdfSync('sha256', key, 'stepline-approval', `cookie:${kind}`, 32));
}

function checkKeys(keys: readonly string[]): void {
  if (keys.length === 0) throw new ApprovalKeyError('no approval signing key is configured');
}

/** Seals claims with the current key: `v1.<iv>.<ciphertext and tag>`, base64url. */
export function seal(claims: Claims, keys: readonly string[]): string {
  checkKeys(keys);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(keys[0]!, claims.kind), iv);
  cipher.setAAD(Buffer.from(claims.kind));
  const body = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

export type Opened<T> =
  | { readonly ok: true; readonly claims: T }
  | { readonly ok: false; readonly reason: 'missing' | 'invalid' | 'expired' };

function openAs<T extends Claims>(
  kind: T['kind'],
  value: string | undefined,
  keys: readonly string[],
  nowSeconds: number,
): Opened<T> {
  checkKeys(keys);
  if (!value) return { ok: false, reason: 'missing' };
  const match = /^v1\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{24,4096})$/.exec(value);
  if (!match) return { ok: false, reason: 'invalid' };
  const iv = Buffer.from(match[1]!, 'base64url');
  const body = Buffer.from(match[2]!, 'base64url');
  if (body.length < 17) return { ok: false, reason: 'invalid' };
  for (const key of keys) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', derive(key, kind), iv);
      decipher.setAAD(Buffer.from(kind));
      decipher.setAuthTag(body.subarray(body.length - 16));
      const text = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
      const claims = JSON.parse(text.toString('utf8')) as T;
      if (claims.kind !== kind) return { ok: false, reason: 'invalid' };
      if (!(claims.expiresAt > nowSeconds)) return { ok: false, reason: 'expired' };
      return { ok: true, claims };
    } catch {
      // Another key, or not ours.
    }
  }
  return { ok: false, reason: 'invalid' };
}

export function openSession(value: string | undefined, keys: readonly string[], now: number): Opened<SessionClaims> {
  return openAs<SessionClaims>('session', value, keys, now);
}

export function openSignIn(value: string | undefined, keys: readonly string[], now: number): Opened<SignInClaims> {
  return openAs<SignInClaims>('sign-in', value, keys, now);
}

export function newSession(person: Person, teams: Record<string, boolean>, nowSeconds: number): SessionClaims {
  return {
    kind: 'session',
    person,
    teams,
    nonce: randomBytes(16).toString('base64url'),
    expiresAt: nowSeconds + SESSION_SECONDS,
  };
}

/** A sign-in about to start: a fresh `state`, and a PKCE verifier with its S256 challenge where the host takes one. */
export function newSignIn(
  provider: Provider,
  approval: string,
  pkce: boolean,
  nowSeconds: number,
): { claims: SignInClaims; challenge: string | null } {
  const verifier = pkce ? randomBytes(32).toString('base64url') : null;
  return {
    claims: {
      kind: 'sign-in',
      provider,
      state: randomBytes(24).toString('base64url'),
      verifier,
      approval,
      expiresAt: nowSeconds + SIGN_IN_SECONDS,
    },
    challenge: verifier ? pkceChallenge(verifier) : null,
  };
}

/** RFC 7636 S256: base64url(SHA-256(verifier)). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** The CSRF token of a session for one approval: the decision form carries it back. */
export function csrfToken(session: SessionClaims, approvalId: string, keys: readonly string[]): string {
  checkKeys(keys);
  return createHmac('sha256', derive(keys[0]!, 'session'))
    .update(`csrf:${session.nonce}:${approvalId}`)
    .digest('base64url');
}

export function checkCsrf(
  session: SessionClaims,
  approvalId: string,
  given: string | null | undefined,
  keys: readonly string[],
): boolean {
  if (!given) return false;
  const givenBuffer = Buffer.from(given);
  return keys.some((key) => {
    const expected = Buffer.from(
      createHmac('sha256', derive(key, 'session')).update(`csrf:${session.nonce}:${approvalId}`).digest('base64url'),
    );
    return expected.length === givenBuffer.length && timingSafeEqual(expected, givenBuffer);
  });
}

/** Compares two strings in constant time (the OAuth `state`). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
