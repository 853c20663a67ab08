import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkCsrf,
  csrfToken,
  newSession,
  newSignIn,
  openSession,
  openSignIn,
  pkceChallenge,
  seal,
} from '../../../core/approval/session';

const KEYS = ['k'.repeat(32)];
const NOW = 1_893_456_000;
const alice = { source: 'github', login: 'alice', names: ['alice'] } as const;

describe('the approval pages cookies', () => {
  it('opens what it sealed, until it expires', () => {
    const session = newSession(alice, { '@acme/release': true }, NOW);
    const sealed = seal(session, KEYS);
    expect(openSession(sealed, KEYS, NOW + 3599)).toEqual({ ok: true, claims: session });
    expect(openSession(sealed, KEYS, NOW + 3600)).toEqual({ ok: false, reason: 'expired' });
  });

  it('cannot be read: the login is nowhere in the cookie', () => {
    const sealed = seal(newSession(alice, {}, NOW), KEYS);
    expect(sealed).not.toContain('alice');
    expect(Buffer.from(sealed.split('.')[2]!, 'base64url').toString('latin1')).not.toContain('alice');
  });

  it.each([
    ['another key', (s: string) => s, ['x'.repeat(32)]],
    ['a changed byte', (s: string) => `${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`, KEYS],
    ['garbage', () => 'v1.not.a-cookie', KEYS],
  ])('refuses a session cookie with %s', (_name, tamper, keys) => {
    const sealed = seal(newSession(alice, {}, NOW), KEYS);
    expect(openSession(tamper(sealed), keys, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('never takes a sign-in cookie for a session, or the other way round', () => {
    const { claims } = newSignIn('github', 'id.1.sig', true, NOW);
    expect(openSession(seal(claims, KEYS), KEYS, NOW)).toEqual({ ok: false, reason: 'invalid' });
    expect(openSignIn(seal(newSession(alice, {}, NOW), KEYS), KEYS, NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('makes an RFC 7636 S256 challenge of a fresh verifier, and none for hosts without PKCE', () => {
    const withPkce = newSignIn('gitlab', 'id.1.sig', true, NOW);
    expect(withPkce.claims.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(withPkce.challenge).toBe(createHash('sha256').update(withPkce.claims.verifier!).digest('base64url'));
    // RFC 7636 appendix B.
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
    expect(newSignIn('bitbucket', 'id.1.sig', false, NOW)).toMatchObject({
      challenge: null,
      claims: { verifier: null },
    });
  });

  it('binds the CSRF token to the session and the request', () => {
    const session = newSession(alice, {}, NOW);
    const token = csrfToken(session, 'AAAAAAAAAAAAAAAAAAAAAA', KEYS);
    expect(checkCsrf(session, 'AAAAAAAAAAAAAAAAAAAAAA', token, KEYS)).toBe(true);
    expect(checkCsrf(session, 'BBBBBBBBBBBBBBBBBBBBBB', token, KEYS)).toBe(false);
    expect(checkCsrf(newSession(alice, {}, NOW), 'AAAAAAAAAAAAAAAAAAAAAA', token, KEYS)).toBe(false);
    expect(checkCsrf(session, 'AAAAAAAAAAAAAAAAAAAAAA', null, KEYS)).toBe(false);
  });
});
