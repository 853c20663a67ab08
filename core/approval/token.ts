import { createHmac, timingSafeEqual } from 'node:crypto';
import { ApprovalKeyError } from './errors';

/**
 * The approval link's id: `<id>.<expires>.<signature>`, where `id` is the request's id (22 base64url characters),
 * `expires` the expiry in seconds since the epoch, and `signature` HMAC-SHA256 over both with the signing key
 * (base64url). The link carries no task token and cannot be made up or moved to another expiry without the key;
 * single use is the store's part (a conditional write). Keys rotate: the first signs, any verifies.
 */

const VERSION = 'stepline-approval-v1';
const ID = /^[A-Za-z0-9_-]{22}$/;
const SIGNED = /^([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;
export const MIN_KEY_LENGTH = 32;

export type VerifiedApprovalId =
  | { readonly ok: true; readonly id: string; readonly expiresAt: number }
  | { readonly ok: false; readonly reason: 'malformed' | 'forged' };

function checkKeys(keys: readonly string[]): void {
  if (keys.length === 0) throw new ApprovalKeyError('no approval signing key is configured');
  for (const key of keys) {
    if (key.length < MIN_KEY_LENGTH) {
      throw new ApprovalKeyError(`an approval signing key is shorter than ${MIN_KEY_LENGTH} characters`);
    }
  }
}

function mac(key: string, message: string): Buffer {
  return createHmac('sha256', key).update(message).digest();
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * The request id of a seed (the gate: execution and environment; or a task token): the same seed always gets the
 * same id. Its first character is a letter or digit, never `-` or `_`, so that no command line reads an id as an
 * option.
 */
export function approvalIdFor(seed: string, keys: readonly string[]): string {
  checkKeys(keys);
  const digest = mac(keys[0]!, `${VERSION}:id:${seed}`);
  return `${ALNUM[digest[0]! % ALNUM.length]}${digest.subarray(1).toString('base64url').slice(0, 21)}`;
}

/** Signs an id and its expiry with the current key. */
export function signApprovalId(id: string, expiresAt: number, keys: readonly string[]): string {
  checkKeys(keys);
  if (!ID.test(id)) throw new TypeError('an approval id is 22 base64url characters');
  if (!Number.isInteger(expiresAt) || expiresAt <= 0) throw new TypeError('expiresAt is seconds since the epoch');
  const signature = mac(keys[0]!, `${VERSION}:${id}:${expiresAt}`).toString('base64url');
  return `${id}.${expiresAt}.${signature}`;
}

/** Checks a signed id against every key, in constant time per key. Says nothing about expiry or use. */
export function verifyApprovalId(signed: string, keys: readonly string[]): VerifiedApprovalId {
  checkKeys(keys);
  const match = SIGNED.exec(signed);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, id, expires, signature] = match as unknown as [string, string, string, string];
  const given = Buffer.from(signature, 'base64url');
  for (const key of keys) {
    const expected = mac(key, `${VERSION}:${id}:${Number(expires)}`);
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      return { ok: true, id, expiresAt: Number(expires) };
    }
  }
  return { ok: false, reason: 'forged' };
}

/** Signing keys from a comma-separated list, current first (`STEPLINE_APPROVAL_KEYS`). */
export function parseApprovalKeys(value: string | undefined, name = 'STEPLINE_APPROVAL_KEYS'): string[] {
  const keys = (value ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (keys.length === 0) throw new ApprovalKeyError(`${name} is not set`);
  return keys;
}
