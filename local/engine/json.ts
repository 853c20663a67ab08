import type { JsonObject, JsonValue } from './types';

/** Step Functions' payload quota: 256 KiB of UTF-8 for an input, output, result or variable set. */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Bytes of UTF-8 that a JSON text takes, without encoding it when it is plainly small or plainly ASCII. */
export function utf8Length(text: string): number {
  if (text.length * 3 <= PAYLOAD_LIMIT_BYTES) return text.length; // cannot exceed the limit; exact size not needed
  return Buffer.byteLength(text, 'utf8');
}

/** A sixth of the quota: JSON escaping and UTF-8 make a character at most 6 bytes. */
const SAFE_LENGTH = Math.floor(PAYLOAD_LIMIT_BYTES / 6);

/**
 * Walks a value adding up an upper bound of its JSON text's characters (not counting escapes), and stops as soon
 * as the sum passes `budget`. Returns what is left of the budget (negative: over).
 */
function remaining(value: unknown, budget: number): number {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'string') return budget - value.length - 2;
    return budget - 24;
  }
  let left = budget - 2;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && left >= 0; i++) left = remaining(value[i], left - 1);
    return left;
  }
  for (const k in value) {
    left = remaining((value as Record<string, unknown>)[k], left - k.length - 4);
    if (left < 0) return left;
  }
  return left;
}

/**
 * Whether a value's JSON text takes more than the payload quota. Most values are far below a sixth of it and need
 * no encoding to tell; the others are encoded and measured exactly.
 */
export function exceedsPayloadLimit(value: unknown): boolean {
  if (remaining(value, SAFE_LENGTH) >= 0) return false;
  return utf8Length(toJsonText(value)) > PAYLOAD_LIMIT_BYTES;
}

/** JSON text of a value as history events carry it (`undefined` is written as `null`). */
export function toJsonText(value: unknown): string {
  return value === undefined ? 'null' : JSON.stringify(value);
}

/**
 * A copy of what a handler or an API caller handed in, made plain JSON: functions and `undefined` members go,
 * Dates become strings, shared references are no longer shared with the caller.
 */
export function toJsonValue(value: unknown): JsonValue {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}

/** Structural equality of two JSON values (object member order does not matter). */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEquals(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a as object);
  const bo = b as Record<string, unknown>;
  if (ak.length !== Object.keys(bo).length) return false;
  for (const k of ak) if (!(k in bo) || !jsonEquals((a as Record<string, unknown>)[k], bo[k])) return false;
  return true;
}

/** The JSON type name that AWS uses in messages: object, array, string, number, boolean, null. */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
