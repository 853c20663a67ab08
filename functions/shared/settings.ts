import { ConfigError } from '../../core/errors';

/**
 * How a function's settings module reads its environment: each function calls its reader once, at cold start, with
 * `process.env`, and gets typed settings or a `ConfigError` that names the variable and says what is wrong, so a
 * misconfigured function fails when it starts, not on its first event. The variables' names come from the contract
 * modules of core (`core/contracts`, `core/<area>/contracts.ts`), which the CDK constructs use to set them.
 *
 * The AWS SDK's own variables (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL_<SERVICE>`) are the SDK's to read: a
 * function builds its clients with no region or endpoint, and reads `AWS_REGION` itself only where it needs the
 * region as a value (a console link, the region of an EKS cluster that names none).
 */

export type Environment = Readonly<Record<string, string | undefined>>;

/** Throws the `ConfigError` of a variable: `NAME: reason`, with the variable as the issue's path. */
export function invalid(variable: string, reason: string): never {
  throw new ConfigError(`${variable}: ${reason}`, [{ path: variable, message: reason }]);
}

/** The variable's value, trimmed, or null when it is unset or blank. */
export function optional(env: Environment, variable: string): string | null {
  const value = env[variable]?.trim();
  return value ? value : null;
}

/** The variable's value; a `ConfigError` saying what it must hold when it is unset or blank. */
export function required(env: Environment, variable: string, what: string): string {
  return optional(env, variable) ?? invalid(variable, `is not set; it must hold ${what}`);
}

/** An absolute http(s) URL without a trailing slash, or null when unset. */
export function url(env: Environment, variable: string): string | null {
  const value = optional(env, variable);
  if (value === null) return null;
  let parsed: URL | null = null;
  try {
    parsed = new URL(value);
  } catch {
    parsed = null;
  }
  if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    invalid(variable, `must be an http(s) URL such as https://api.github.com, got ${quote(value)}`);
  }
  return value.replace(/\/+$/, '');
}

/** A whole number of at least `min` (default 0), or `fallback` when unset. */
export function wholeNumber(env: Environment, variable: string, fallback: number, min = 0): number {
  const value = optional(env, variable);
  if (value === null) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    invalid(variable, `must be a whole number of at least ${min}, got ${quote(value)}`);
  }
  return n;
}

/** One of `choices`, or `fallback` when unset. */
export function oneOf<T extends string>(env: Environment, variable: string, choices: readonly T[], fallback: T): T {
  const value = optional(env, variable);
  if (value === null) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    invalid(variable, `must be ${choices.map((c) => `"${c}"`).join(' or ')}, got ${quote(value)}`);
  }
  return value as T;
}

/**
 * A value as a message may show it: quoted, and a long one cut to its first characters, so that a token put in the
 * wrong variable is never shown whole.
 */
function quote(value: string): string {
  return JSON.stringify(value.length > 24 ? `${value.slice(0, 8)}…` : value);
}
