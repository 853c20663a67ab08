import { createHash } from 'node:crypto';
import type { SteplineConfig } from './schema';

/**
 * A sealed configuration: a `stepline.config.json` that was validated (defaults applied) when the function was
 * built, wrapped with the SHA-256 of its canonical JSON. A function that opens a sealed document whose digest
 * matches uses it as it is and never loads zod, which costs about 100 ms of every cold start (docs/adr/0046).
 *
 * The seal is a record of validation, not a signature: whoever can change the file can change the function. The
 * digest catches what it is meant to catch, a document edited or truncated after it was validated; a document
 * whose digest does not match is validated again, like any other (see adapters/settings.ts).
 *
 * No zod here, and no value import of schema.ts (it would load zod): only its types.
 */

export const SEALED_CONFIG_MARKER = 'sealed-config';
export const SEALED_CONFIG_VERSION = 1;

export interface SealedConfig {
  readonly stepline: typeof SEALED_CONFIG_MARKER;
  readonly version: typeof SEALED_CONFIG_VERSION;
  /** `sha256:` and the hex SHA-256 of `canonicalJson(config)`. */
  readonly digest: string;
  readonly config: SteplineConfig;
}

/**
 * JSON with the keys of every object sorted (by UTF-16 code units) and no whitespace, so that equal values have
 * equal text whatever the order their keys were written in. For the plain JSON values a configuration holds
 * (objects, arrays, strings, finite numbers, booleans, null) this is RFC 8785's canonical form. Object members
 * whose value is `undefined` are left out, as JSON.stringify leaves them out.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(',')}}`;
}

/** The digest a sealed document carries for `config`. */
export function configDigest(config: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(config)).digest('hex')}`;
}

/**
 * Seals a configuration that `validateConfig` or `parseConfig` returned (validated, defaults applied). Sealing an
 * unvalidated document would let it skip validation: only ever pass what the parser gave back.
 */
export function sealConfig(config: SteplineConfig): SealedConfig {
  return { stepline: SEALED_CONFIG_MARKER, version: SEALED_CONFIG_VERSION, digest: configDigest(config), config };
}

/** Whether `value` says it is a sealed document (marker and version), whether or not its digest matches. */
export function isSealedConfigDocument(
  value: unknown,
): value is { readonly stepline: typeof SEALED_CONFIG_MARKER; readonly version: number; readonly config?: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    (value as Record<string, unknown>)['stepline'] === SEALED_CONFIG_MARKER
  );
}

/**
 * The configuration inside a sealed document, or null when `value` is not one: no marker, another version, no
 * digest, no configuration object, or a digest that does not match the configuration.
 */
export function openSealedConfig(value: unknown): SteplineConfig | null {
  if (!isSealedConfigDocument(value) || value.version !== SEALED_CONFIG_VERSION) return null;
  const { digest, config } = value as { digest?: unknown; config?: unknown };
  if (typeof digest !== 'string' || typeof config !== 'object' || config === null || Array.isArray(config)) {
    return null;
  }
  return configDigest(config) === digest ? (config as SteplineConfig) : null;
}
