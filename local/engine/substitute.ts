import { MissingSubstitutionError } from './errors';
import { isObject } from './json';
import type { JsonValue, StateMachineDefinition } from './types';

const PLACEHOLDER = /\$\{([A-Za-z0-9_.:-]+)\}/g;

/**
 * Replaces `${Name}` placeholders in every string of a definition, as CloudFormation's DefinitionSubstitutions
 * does when CDK deploys `statemachines/*.asl.json`, so that the local runtime runs the very same file. A
 * placeholder without a value is an error: it would otherwise surface later as an odd ARN.
 */
export function applySubstitutions(
  definition: StateMachineDefinition | string,
  substitutions: Readonly<Record<string, string | number | boolean>>,
): StateMachineDefinition {
  const parsed: unknown = typeof definition === 'string' ? JSON.parse(definition) : definition;
  const missing = new Set<string>();
  const replace = (text: string): string =>
    text.replace(PLACEHOLDER, (whole, name: string) => {
      if (Object.hasOwn(substitutions, name)) return String(substitutions[name]);
      missing.add(name);
      return whole;
    });
  const walk = (value: unknown): JsonValue => {
    if (typeof value === 'string') return replace(value);
    if (Array.isArray(value)) return value.map(walk);
    if (isObject(value)) {
      const out: Record<string, JsonValue> = {};
      for (const [k, v] of Object.entries(value)) out[replace(k)] = walk(v);
      return out;
    }
    return value as JsonValue;
  };
  const result = walk(parsed) as unknown as StateMachineDefinition;
  if (missing.size > 0) throw new MissingSubstitutionError([...missing].sort());
  return result;
}
