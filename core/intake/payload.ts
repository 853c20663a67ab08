import { MalformedPayloadError } from './errors';

/**
 * Small readers for verified JSON payloads: each takes the object, a key and the field's path for the message, and
 * either returns the value with its type or throws `MalformedPayloadError` naming the field. Providers read only
 * the fields they need; everything else in a payload is left alone.
 */

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function object(value: unknown, field: string): Json {
  if (!isObject(value)) throw new MalformedPayloadError(field, 'an object');
  return value;
}

export function child(parent: Json, key: string, field: string): Json {
  return object(parent[key], field);
}

export function optionalChild(parent: Json, key: string, field: string): Json | null {
  const value = parent[key];
  if (value === undefined || value === null) return null;
  return object(value, field);
}

export function string(parent: Json, key: string, field: string): string {
  const value = parent[key];
  if (typeof value !== 'string' || value.length === 0) throw new MalformedPayloadError(field, 'a non-empty string');
  return value;
}

export function optionalString(parent: Json, key: string, field: string): string | null {
  const value = parent[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new MalformedPayloadError(field, 'a string');
  return value;
}

export function integer(parent: Json, key: string, field: string): number {
  const value = parent[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new MalformedPayloadError(field, 'an integer');
  return value;
}

export function optionalArray(parent: Json, key: string, field: string): readonly unknown[] | null {
  const value = parent[key];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw new MalformedPayloadError(field, 'an array');
  return value;
}

export function array(parent: Json, key: string, field: string): readonly unknown[] {
  const value = parent[key];
  if (!Array.isArray(value)) throw new MalformedPayloadError(field, 'an array');
  return value;
}

const SHA = /^[0-9a-f]{7,64}$/;
const NULL_SHA = /^0+$/;

/** A commit SHA (abbreviated ones too: Bitbucket's pull request payloads carry 12 digits). */
export function sha(parent: Json, key: string, field: string): string {
  const value = string(parent, key, field).toLowerCase();
  if (!SHA.test(value)) throw new MalformedPayloadError(field, 'a commit SHA');
  return value;
}

/** A SHA, or null when absent or all zeros (the "no commit" of a created or deleted ref). */
export function optionalSha(parent: Json, key: string, field: string): string | null {
  const value = optionalString(parent, key, field);
  if (value === null || value === '' || NULL_SHA.test(value)) return null;
  if (!SHA.test(value.toLowerCase())) throw new MalformedPayloadError(field, 'a commit SHA');
  return value.toLowerCase();
}

export function isNullSha(value: unknown): boolean {
  return typeof value === 'string' && NULL_SHA.test(value);
}

/** Head commit messages are kept to 1,000 characters (see `CommitInfo.message`). */
export const MAX_MESSAGE_LENGTH = 1000;

export function clip(message: string | null, length = MAX_MESSAGE_LENGTH): string | null {
  if (message === null) return null;
  return message.length > length ? message.slice(0, length) : message;
}

/**
 * At most this many changed paths travel in the execution input (Step Functions caps an input at 256 KiB). A longer
 * list is cut and marked incomplete, which lets path filters pass the run: never a wrongly skipped run.
 */
export const MAX_CHANGED_PATHS = 1000;

/** Splits `refs/heads/x` / `refs/tags/x` into kind and short name; null for any other ref. */
export function parseRef(fullName: string): { kind: 'branch' | 'tag'; name: string } | null {
  if (fullName.startsWith('refs/heads/') && fullName.length > 'refs/heads/'.length) {
    return { kind: 'branch', name: fullName.slice('refs/heads/'.length) };
  }
  if (fullName.startsWith('refs/tags/') && fullName.length > 'refs/tags/'.length) {
    return { kind: 'tag', name: fullName.slice('refs/tags/'.length) };
  }
  return null;
}

/** Collects the files that commits list as added, modified or removed, without duplicates, in first-seen order. */
export function collectChangedPaths(
  commits: readonly unknown[],
  field: string,
): { paths: string[]; listed: boolean; truncated: boolean } {
  const seen = new Set<string>();
  let listed = true;
  commits.forEach((raw, i) => {
    const commit = object(raw, `${field}[${i}]`);
    for (const key of ['added', 'modified', 'removed'] as const) {
      const files = optionalArray(commit, key, `${field}[${i}].${key}`);
      if (files === null) {
        listed = false;
        continue;
      }
      files.forEach((file, j) => {
        if (typeof file !== 'string') throw new MalformedPayloadError(`${field}[${i}].${key}[${j}]`, 'a string');
        seen.add(file);
      });
    }
  });
  const all = [...seen];
  const truncated = all.length > MAX_CHANGED_PATHS;
  return { paths: truncated ? all.slice(0, MAX_CHANGED_PATHS) : all, listed, truncated };
}
