import { DefinitionError } from '../../errors';

/**
 * The workflow definition as a file: `${Placeholder}` values that CloudFormation fills through
 * `DefinitionSubstitutions` (and the local runtime the same way). Pure functions, no CDK.
 */

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** The distinct `${Name}` placeholders of a definition's text, in order of first appearance. */
export function placeholdersIn(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** The placeholders of `text` that `values` does not fill. */
export function missingSubstitutions(text: string, values: Readonly<Record<string, string>>): string[] {
  return placeholdersIn(text).filter((name) => !Object.hasOwn(values, name));
}

/**
 * Replaces every `${Name}` in `text` with `values[Name]`, as Step Functions does with `DefinitionSubstitutions`.
 * Throws a `DefinitionError` that names every placeholder without a value.
 */
export function substitute(text: string, values: Readonly<Record<string, string>>, source: string): string {
  const missing = missingSubstitutions(text, values);
  if (missing.length > 0) {
    const known = Object.keys(values).sort().join(', ') || '(none)';
    throw new DefinitionError(
      `${source}: no substitution for ${missing.map((n) => `\${${n}}`).join(', ')}; the workflow provides ${known}`,
    );
  }
  return text.replace(PLACEHOLDER, (_whole, name: string) => values[name]!);
}

/** A state machine definition, as much of it as Stepline reads. */
export interface AslDefinition {
  readonly QueryLanguage?: 'JSONata' | 'JSONPath';
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
}

export interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Arguments?: unknown;
  readonly Parameters?: unknown;
  readonly QueryLanguage?: 'JSONata' | 'JSONPath';
  readonly ItemProcessor?: AslDefinition;
  readonly Iterator?: AslDefinition;
  readonly Branches?: readonly AslDefinition[];
  readonly [key: string]: unknown;
}

/** Parses a definition's JSON text (after substitution), naming the file when it is not a state machine. */
export function parseDefinition(text: string, source: string): AslDefinition {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DefinitionError(`${source}: not JSON (${reason})`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DefinitionError(`${source}: a state machine definition is a JSON object`);
  }
  const candidate = value as Partial<AslDefinition>;
  if (typeof candidate.StartAt !== 'string' || typeof candidate.States !== 'object' || candidate.States === null) {
    throw new DefinitionError(`${source}: a state machine definition needs StartAt and States`);
  }
  return candidate as AslDefinition;
}

/** One Task state, wherever it is nested (Map item processors, Parallel branches). */
export interface TaskState {
  /** The state's name, with the names of the Map and Parallel states around it: `Tests/RunSuite`. */
  readonly path: string;
  readonly resource: string;
  /** `Arguments` (JSONata) or `Parameters` (JSONPath); an empty object when the Task has neither or an expression. */
  readonly parameters: Record<string, unknown>;
  /** `Arguments` written as one JSONata expression (`"{% {...} %}"`) instead of an object. */
  readonly expression?: string;
  readonly queryLanguage: 'JSONata' | 'JSONPath';
}

/** Every Task state of a definition, nested ones included, in document order. */
export function taskStates(definition: AslDefinition): TaskState[] {
  const out: TaskState[] = [];
  const visit = (machine: AslDefinition, prefix: string, inherited: 'JSONata' | 'JSONPath'): void => {
    const language = machine.QueryLanguage ?? inherited;
    for (const [name, state] of Object.entries(machine.States)) {
      const path = prefix ? `${prefix}/${name}` : name;
      const stateLanguage = state.QueryLanguage ?? language;
      if (state.Type === 'Task' && typeof state.Resource === 'string') {
        const parameters = (stateLanguage === 'JSONata' ? state.Arguments : state.Parameters) ?? {};
        out.push({
          path,
          resource: state.Resource,
          parameters:
            typeof parameters === 'object' && parameters !== null ? (parameters as Record<string, unknown>) : {},
          ...(typeof parameters === 'string' ? { expression: parameters } : {}),
          queryLanguage: stateLanguage,
        });
      }
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) visit(processor, path, stateLanguage);
      for (const [i, branch] of (state.Branches ?? []).entries()) visit(branch, `${path}[${i}]`, stateLanguage);
    }
  };
  visit(definition, '', 'JSONPath');
  return out;
}
