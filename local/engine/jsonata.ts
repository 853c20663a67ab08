import { createHash, randomUUID } from 'node:crypto';
import jsonata from 'jsonata';
import { queryError } from './errors';
import { seededRandom } from './intrinsics';
import type { JsonValue } from './types';

/**
 * JSONata as Step Functions runs it: expressions inside `{% ... %}`, evaluated with no input document, with the
 * reserved `$states` variable (`input`, `result`, `errorOutput`, `context`), the workflow variables, AWS's
 * additional functions (`$partition`, `$range`, `$hash`, `$random`, `$uuid`, `$parse`) and without `$eval`.
 */

export interface StatesBinding {
  readonly input: JsonValue;
  readonly context: JsonValue;
  readonly result?: JsonValue;
  readonly errorOutput?: JsonValue;
}

export interface CompiledExpression {
  readonly text: string;
  readonly expression: jsonata.Expression;
}

const EXPRESSION = /^\{%([\s\S]*)%\}$/;

/** The expression inside `{% ... %}`, or undefined when the string is not one. */
export function jsonataBody(value: string): string | undefined {
  const m = EXPRESSION.exec(value);
  return m ? (m[1] as string).trim() : undefined;
}

export function isJsonataString(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('{%') && value.endsWith('%}') && value.length >= 4;
}

/**
 * A string that opens or closes like an expression and is not one (`{% $x`, ` {% $x %}`): "the string must start
 * with {% with no leading spaces, and must end with %} with no trailing spaces. Improperly opening or closing the
 * expression will result in a validation error" (transforming-data.html).
 */
export function isMalformedJsonata(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const trimmed = value.trim();
  if (value.startsWith('{%') && value.endsWith('%}') && value.length >= 4) return false; // a well-formed one
  return trimmed.startsWith('{%') || trimmed.endsWith('%}');
}

const cache = new Map<string, CompiledExpression>();

/** Compiles an expression (throws jsonata's error object, with `message`, when it does not parse). */
export function compileJsonata(text: string): CompiledExpression {
  const hit = cache.get(text);
  if (hit) return hit;
  const compiled = { text, expression: jsonata(text) };
  if (cache.size > 5000) cache.clear();
  cache.set(text, compiled);
  return compiled;
}

function awsFunctionError(message: string): never {
  throw { code: 'States.QueryEvaluationError', message };
}

/**
 * An integer argument: "Built-in JSONata functions that require integer values as parameters will automatically
 * round down any non-integer numbers provided" (transforming-data.html#jsonata-functions-provided-by-sfn).
 */
function integerArgument(v: unknown, message: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) awsFunctionError(message);
  return Math.floor(v);
}

const AWS_FUNCTIONS: Record<string, unknown> = {
  partition: (array: unknown, chunk: unknown) => {
    if (!Array.isArray(array)) awsFunctionError('$partition: the first argument must be an array');
    const size = integerArgument(chunk, '$partition: the chunk size must be a positive integer');
    if (size <= 0) awsFunctionError('$partition: the chunk size must be a positive integer');
    const out: unknown[] = [];
    for (let i = 0; i < array.length; i += size) out.push(array.slice(i, i + size));
    return out;
  },
  range: (first: unknown, last: unknown, delta: unknown) => {
    const [start, end, step] = [first, last, delta].map((v) =>
      integerArgument(v, '$range: arguments must be integers'),
    ) as [number, number, number];
    const out: number[] = [];
    if (step === 0) return out;
    for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
      out.push(v);
      if (out.length > 1000) awsFunctionError('$range: the range has more than 1000 items');
    }
    return out;
  },
  hash: (data: unknown, algorithm: unknown) => {
    const algorithms: Record<string, string> = {
      MD5: 'md5',
      'SHA-1': 'sha1',
      'SHA-256': 'sha256',
      'SHA-384': 'sha384',
      'SHA-512': 'sha512',
    };
    if (typeof data !== 'string') awsFunctionError('$hash: the data to hash must be a string');
    const node = typeof algorithm === 'string' ? algorithms[algorithm] : undefined;
    if (!node) awsFunctionError(`$hash: the algorithm must be one of ${Object.keys(algorithms).join(', ')}`);
    return createHash(node).update(data, 'utf8').digest('hex');
  },
  random: (seed?: unknown) => {
    if (seed === undefined) return Math.random();
    return seededRandom(integerArgument(seed, '$random: the seed must be a number'));
  },
  uuid: () => randomUUID(),
  parse: (text: unknown) => {
    if (typeof text !== 'string') awsFunctionError('$parse: the argument must be a string');
    try {
      return JSON.parse(text);
    } catch {
      return awsFunctionError('$parse: the argument is not valid JSON text');
    }
  },
  eval: () => awsFunctionError('The function $eval is not supported by Step Functions'),
};

/**
 * Evaluates a compiled expression. `location` names the field for messages and EvaluationFailed events
 * (`Output`, `Arguments/FunctionName`, ...). Fails with States.QueryEvaluationError as AWS does: on an error, on
 * an undefined result, on a result that is not JSON.
 */
export async function evaluateJsonata(
  compiled: CompiledExpression,
  states: StatesBinding,
  variables: Record<string, unknown>,
  location: string,
): Promise<JsonValue> {
  const bindings: Record<string, unknown> = { ...variables, ...AWS_FUNCTIONS, states };
  let result: unknown;
  try {
    result = await compiled.expression.evaluate(undefined, bindings);
  } catch (err) {
    const e = err as { message?: string; code?: string };
    throw queryError(
      `The JSONata expression '${compiled.text}' specified for the field '${location}' threw an error: ${e.message ?? String(err)}`,
      location,
    );
  }
  if (result === undefined) {
    throw queryError(
      `The JSONata expression '${compiled.text}' specified for the field '${location}' returned nothing (undefined).`,
      location,
    );
  }
  if (typeof result === 'function') {
    throw queryError(
      `The JSONata expression '${compiled.text}' specified for the field '${location}' returned an unsupported result type.`,
      location,
    );
  }
  return normalize(result);
}

/** jsonata returns arrays with extra members (sequences) and may nest functions: make it plain JSON. */
function normalize(value: unknown): JsonValue {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return null;
    return value as JsonValue;
  }
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}
