import type { NumberSpec, TimestampSpec } from '../compiled';
import { isObject } from '../json';
import { compilePath, PathSyntaxError } from '../jsonpath';
import { VARIABLE_NAME } from '../variables';
import type { Diagnostics, NumberLimits } from './types';

// What the two languages check alike when a definition is loaded.

/** A literal number field: within its limits, else a diagnostic. */
export function literalNumber(
  v: unknown,
  field: string,
  pointer: string,
  limits: NumberLimits,
  diag: Diagnostics,
): NumberSpec | undefined {
  if (
    typeof v !== 'number' ||
    (limits.integer && !Number.isInteger(v)) ||
    v < limits.min ||
    (limits.max !== undefined && v > limits.max)
  ) {
    diag.schema(
      `${pointer}/${field}`,
      `'${field}' must be ${limits.integer ? 'an integer' : 'a number'} >= ${limits.min}${limits.max !== undefined ? ` and <= ${limits.max}` : ''}`,
    );
    return undefined;
  }
  return { kind: 'literal', value: v };
}

/** `Field` and `FieldPath` exclude each other. Returns which one is present (undefined: neither, or both). */
export function numberFieldForm(
  def: Record<string, unknown>,
  field: string,
  pointer: string,
  diag: Diagnostics,
): 'literal' | 'path' | undefined {
  const hasLiteral = field in def;
  const hasPath = `${field}Path` in def;
  if (hasLiteral && hasPath) {
    diag.schema(pointer, `'${field}' and '${field}Path' cannot both be set`);
    return undefined;
  }
  return hasLiteral ? 'literal' : hasPath ? 'path' : undefined;
}

/** A `FieldPath` number field. */
export function pathNumber(
  def: Record<string, unknown>,
  field: string,
  pointer: string,
  diag: Diagnostics,
): NumberSpec | undefined {
  const pathField = `${field}Path`;
  const v = def[pathField];
  try {
    if (typeof v !== 'string') throw new PathSyntaxError('must be a string');
    return { kind: 'path', path: compilePath(v), field: pathField };
  } catch (err) {
    diag.schema(
      `${pointer}/${pathField}`,
      `The value for the field '${pathField}' must be a valid JSONPath: ${(err as Error).message}`,
    );
    return undefined;
  }
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** A literal Timestamp of a Wait state. */
export function literalTimestamp(v: unknown, pointer: string, diag: Diagnostics): TimestampSpec | undefined {
  if (typeof v !== 'string' || !TIMESTAMP.test(v)) {
    diag.schema(
      `${pointer}/Timestamp`,
      "'Timestamp' must be an ISO-8601 extended offset date-time, e.g. 2016-03-14T01:59:00Z",
    );
    return undefined;
  }
  return { kind: 'literal', value: v };
}

/**
 * An Assign field: an object whose keys are variable names (a JSONPath key may end in `.$`). Returns the object
 * when it is one, after reporting invalid names.
 */
export function assignObject(
  value: unknown,
  pointer: string,
  diag: Diagnostics,
  pathSuffix: boolean,
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    diag.schema(pointer, "The value for the field 'Assign' must be an OBJECT");
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const name = pathSuffix && key.endsWith('.$') ? key.slice(0, -2) : key;
    if (!VARIABLE_NAME.test(name)) {
      diag.schema(
        `${pointer}/${key}`,
        `The variable name '${name}' is invalid: use a letter or '_' then letters, digits or '_', at most 80 characters`,
      );
    } else if (name === 'states') {
      diag.schema(`${pointer}/${key}`, "The variable name 'states' is reserved");
    }
  }
  return value;
}

/** Reports the fields of `def` that are not in `allowed`. */
export function onlyFields(
  def: Record<string, unknown>,
  allowed: readonly string[],
  pointer: string,
  where: string,
  diag: Diagnostics,
): void {
  for (const key of Object.keys(def)) {
    if (!allowed.includes(key)) diag.schema(`${pointer}/${key}`, `Field '${key}' is not supported in ${where}`);
  }
}
