import { runtimeError } from './errors';
import { isObject } from './json';
import { type CompiledPath, compilePath, NOT_FOUND } from './jsonpath';
import { type PathEnv, resolvePath, TemplateError } from './templates';
import type { JsonValue } from './types';

/**
 * Choice rules of JSONPath states: the comparison operators (String…, Numeric…, Boolean…, Timestamp…, their
 * `…Path` forms, StringMatches, the Is… tests) and And / Or / Not, compiled to predicates once.
 *
 * As on AWS: a comparison whose variable holds a value of another type is false, not an error; a Variable that
 * matches nothing is a States.Runtime error except under IsPresent.
 */

export type ChoicePredicate = (env: PathEnv) => boolean;

type Kind = 'string' | 'numeric' | 'boolean' | 'timestamp';
type Cmp = 'Equals' | 'LessThan' | 'GreaterThan' | 'LessThanEquals' | 'GreaterThanEquals';

const COMPARISONS: Record<string, { kind: Kind; cmp: Cmp }> = {};
for (const [prefix, kind] of [
  ['String', 'string'],
  ['Numeric', 'numeric'],
  ['Timestamp', 'timestamp'],
] as const) {
  for (const cmp of ['Equals', 'LessThan', 'GreaterThan', 'LessThanEquals', 'GreaterThanEquals'] as const) {
    COMPARISONS[`${prefix}${cmp}`] = { kind, cmp };
  }
}
COMPARISONS['BooleanEquals'] = { kind: 'boolean', cmp: 'Equals' };

const TESTS = new Set(['IsNull', 'IsPresent', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp']);

/** Every operator a JSONPath choice rule may use. */
export const CHOICE_OPERATORS: readonly string[] = [
  ...Object.keys(COMPARISONS),
  ...Object.keys(COMPARISONS).map((k) => `${k}Path`),
  'StringMatches',
  ...TESTS,
];

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch for an RFC 3339 timestamp as Step Functions accepts it, else undefined. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TIMESTAMP.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (probe.getUTCMonth() !== mo - 1) return undefined; // 2021-02-30 and the like
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash. */
export function compileStringMatches(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) {
      re += `\\${pattern[i + 1]}`;
      i++;
    } else if (c === '*') re += '[\\s\\S]*';
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function compare(kind: Kind, cmp: Cmp, left: unknown, right: unknown): boolean {
  let a: string | number | boolean;
  let b: string | number | boolean;
  switch (kind) {
    case 'string':
      if (typeof left !== 'string' || typeof right !== 'string') return false;
      a = left;
      b = right;
      break;
    case 'numeric':
      if (typeof left !== 'number' || typeof right !== 'number') return false;
      a = left;
      b = right;
      break;
    case 'boolean':
      if (typeof left !== 'boolean' || typeof right !== 'boolean') return false;
      return left === right;
    case 'timestamp': {
      const ta = parseTimestamp(left);
      const tb = parseTimestamp(right);
      if (ta === undefined || tb === undefined) return false;
      a = ta;
      b = tb;
      break;
    }
  }
  switch (cmp) {
    case 'Equals':
      return a === b;
    case 'LessThan':
      return a < b;
    case 'GreaterThan':
      return a > b;
    case 'LessThanEquals':
      return a <= b;
    case 'GreaterThanEquals':
      return a >= b;
  }
}

function literalMatchesKind(kind: Kind, value: unknown): boolean {
  if (kind === 'string') return typeof value === 'string';
  if (kind === 'numeric') return typeof value === 'number';
  if (kind === 'boolean') return typeof value === 'boolean';
  return parseTimestamp(value) !== undefined;
}

/** Compiles one rule (a top-level choice or a nested one); throws TemplateError naming the field at fault. */
export function compileChoiceRule(rule: unknown, pointer: string, topLevel: boolean): ChoicePredicate {
  if (!isObject(rule)) throw new TemplateError('a choice rule must be an object', pointer);
  if ('And' in rule || 'Or' in rule) {
    const op = 'And' in rule ? 'And' : 'Or';
    const list = rule[op];
    if (!Array.isArray(list) || list.length === 0) {
      throw new TemplateError(`'${op}' must be a non-empty array of choice rules`, `${pointer}/${op}`);
    }
    const preds = list.map((r, i) => compileChoiceRule(r, `${pointer}/${op}/${i}`, false));
    return op === 'And' ? (env) => preds.every((p) => p(env)) : (env) => preds.some((p) => p(env));
  }
  if ('Not' in rule) {
    const inner = compileChoiceRule(rule['Not'], `${pointer}/Not`, false);
    return (env) => !inner(env);
  }
  const operators = Object.keys(rule).filter(
    (k) => k !== 'Variable' && k !== 'Next' && k !== 'Comment' && k !== 'Assign',
  );
  if (operators.length !== 1 || !CHOICE_OPERATORS.includes(operators[0] as string)) {
    throw new TemplateError(
      operators.length === 0
        ? 'the choice rule has no comparison operator'
        : `the choice rule must have exactly one comparison operator, found: ${operators.join(', ')}`,
      pointer,
    );
  }
  if (!topLevel && 'Next' in rule)
    throw new TemplateError("a nested choice rule may not have 'Next'", `${pointer}/Next`);
  const variableText = rule['Variable'];
  if (typeof variableText !== 'string')
    throw new TemplateError("the choice rule needs a 'Variable' path", `${pointer}/Variable`);
  let variable: CompiledPath;
  try {
    variable = compilePath(variableText);
  } catch (err) {
    throw new TemplateError(`invalid JSONPath: ${(err as Error).message}`, `${pointer}/Variable`);
  }
  const op = operators[0] as string;
  const operand = rule[op];

  const readVariable = (env: PathEnv): JsonValue | typeof NOT_FOUND => resolvePath(variable, env);
  const missing = (): never => {
    throw runtimeError(
      `Invalid path '${variable.text}': The choice state's condition path references an invalid value.`,
    );
  };

  if (TESTS.has(op)) {
    if (typeof operand !== 'boolean') throw new TemplateError(`'${op}' must be true or false`, `${pointer}/${op}`);
    const test = (v: JsonValue): boolean => {
      switch (op) {
        case 'IsNull':
          return v === null;
        case 'IsNumeric':
          return typeof v === 'number';
        case 'IsString':
          return typeof v === 'string';
        case 'IsBoolean':
          return typeof v === 'boolean';
        default:
          return parseTimestamp(v) !== undefined;
      }
    };
    if (op === 'IsPresent') return (env) => (readVariable(env) !== NOT_FOUND) === operand;
    return (env) => {
      const v = readVariable(env);
      if (v === NOT_FOUND) return missing();
      return test(v) === operand;
    };
  }

  if (op === 'StringMatches') {
    if (typeof operand !== 'string') throw new TemplateError("'StringMatches' must be a string", `${pointer}/${op}`);
    const re = compileStringMatches(operand);
    return (env) => {
      const v = readVariable(env);
      if (v === NOT_FOUND) return missing();
      return typeof v === 'string' && re.test(v);
    };
  }

  const isPath = op.endsWith('Path');
  const { kind, cmp } = COMPARISONS[isPath ? op.slice(0, -4) : op] as { kind: Kind; cmp: Cmp };
  if (isPath) {
    if (typeof operand !== 'string') throw new TemplateError(`'${op}' must be a JSONPath`, `${pointer}/${op}`);
    let other: CompiledPath;
    try {
      other = compilePath(operand);
    } catch (err) {
      throw new TemplateError(`invalid JSONPath: ${(err as Error).message}`, `${pointer}/${op}`);
    }
    return (env) => {
      const v = readVariable(env);
      if (v === NOT_FOUND) return missing();
      const w = resolvePath(other, env);
      if (w === NOT_FOUND) {
        throw runtimeError(
          `Invalid path '${other.text}': The choice state's condition path references an invalid value.`,
        );
      }
      return compare(kind, cmp, v, w);
    };
  }
  if (!literalMatchesKind(kind, operand)) {
    throw new TemplateError(
      `'${op}' must be a ${kind === 'timestamp' ? 'timestamp string' : kind}`,
      `${pointer}/${op}`,
    );
  }
  return (env) => {
    const v = readVariable(env);
    if (v === NOT_FOUND) return missing();
    return compare(kind, cmp, v, operand);
  };
}
