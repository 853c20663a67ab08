import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors';
import { readConfigJson } from './json';
import { SteplineConfig } from './schema';

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(root)';
}

function toIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/**
 * Validates a configuration object and applies its defaults. Throws a `ConfigError` that names every field that
 * is wrong and why; `source` says where the document came from (a path, or "inline JSON").
 */
export function validateConfig(value: unknown, source: string): SteplineConfig {
  const result = SteplineConfig.safeParse(value);
  if (!result.success) {
    const issues = toIssues(result.error);
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
    throw new ConfigError(`invalid Stepline configuration in ${source}:\n${lines}`, issues);
  }
  return result.data;
}

/** Parses the JSON text of a configuration document, then validates it (see `validateConfig`). */
export function parseConfig(text: string, source: string): SteplineConfig {
  return validateConfig(readConfigJson(text, source), source);
}
