import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approvalIdFor, signApprovalId, verifyApprovalId } from '../../../core/approval/token';

const KEY = 'k'.repeat(32);
const OLD_KEY = 'o'.repeat(32);

describe('signed approval ids', () => {
  it('verifies an id it signed and returns its id and expiry', () => {
    const id = approvalIdFor('task-token-1', [KEY]);
    const signed = signApprovalId(id, 1_900_000_000, [KEY]);
    expect(verifyApprovalId(signed, [KEY])).toEqual({ ok: true, id, expiresAt: 1_900_000_000 });
  });

  it('never carries the task token', () => {
    const token = 'AQCEAAAAKgAAAAMAAAAAAAAAAd0secret-task-token';
    const signed = signApprovalId(approvalIdFor(token, [KEY]), 1_900_000_000, [KEY]);
    expect(signed).not.toContain(token);
    expect(signed).toMatch(/^[A-Za-z0-9_-]{22}\.\d+\.[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    ['another key', (s: string) => s, ['x'.repeat(32)]],
    ['a moved expiry', (s: string) => s.replace('.1900000000.', '.1999999999.'), [KEY]],
    ['another id', (s: string) => `B${s.slice(1)}`, [KEY]],
    ['a changed signature', (s: string) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`, [KEY]],
  ])('rejects an id signed with %s as forged', (_name, tamper, keys) => {
    const signed = signApprovalId(approvalIdFor('t', [KEY]), 1_900_000_000, [KEY]);
    expect(verifyApprovalId(tamper(signed), keys)).toEqual({ ok: false, reason: 'forged' });
  });

  it('calls anything else malformed', () => {
    expect(verifyApprovalId('../../etc/passwd', [KEY])).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyApprovalId('', [KEY])).toEqual({ ok: false, reason: 'malformed' });
  });

  it('still accepts ids signed with the previous key during a rotation', () => {
    const signed = signApprovalId(approvalIdFor('t', [OLD_KEY]), 1_900_000_000, [OLD_KEY]);
    expect(verifyApprovalId(signed, [KEY, OLD_KEY])).toMatchObject({ ok: true });
  });

  it('gives the same task token the same id, so a retried task records one request', () => {
    expect(approvalIdFor('t1', [KEY])).toBe(approvalIdFor('t1', [KEY]));
    expect(approvalIdFor('t1', [KEY])).not.toBe(approvalIdFor('t2', [KEY]));
  });

  it('never makes an id that starts with "-" or "_", which a command line would read as an option', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 32, maxLength: 40 }), (seed, key) => {
        expect(approvalIdFor(seed, [key])).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses keys too short to sign with', () => {
    expect(() => approvalIdFor('t', ['short'])).toThrow(/shorter than 32/);
    expect(() => approvalIdFor('t', [])).toThrow(/no approval signing key/);
  });
});
