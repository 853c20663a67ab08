/**
 * A failed run's cause as the workflow writes it: JSON that names the failing step and, for a deploy, approval or
 * rollout, its environment (`{"step": "deploy", "environment": "production", …}`, the `FailedStep` of
 * contracts.ts). Readers: the console's failure banner, `stepline executions show`, and a re-run from the failed
 * environment (local/runtime/runs.ts). Pure.
 */

/** The cause as an object, or null when it is not a JSON object. */
export function causeObject(cause: string | null | undefined): Record<string, unknown> | null {
  if (!cause) return null;
  const text = cause.trim();
  if (!text.startsWith('{')) return null;
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The environment a run failed in, from its cause; null when it names none. */
export function failedEnvironmentOf(cause: string | null | undefined): string | null {
  const environment = causeObject(cause)?.['environment'];
  return typeof environment === 'string' && environment.trim() ? environment.trim() : null;
}
