import { JSONPath } from 'jsonpath-plus';
import { EngineError } from './errors';
import { isObject } from './json';
import type { JsonValue } from './types';

/**
 * JSONPath as Step Functions evaluates it (Jayway JsonPath semantics):
 * - `$` is the state's input, `$$` the context object, `$name` a workflow variable (`$name.field...`).
 * - A *definite* path (only member names and single indexes) yields one value, and fails when any step is missing.
 * - An *indefinite* path (`*`, `..`, filters, slices, unions) yields the array of all matches, empty when none.
 *
 * Definite paths, by far the most common, are walked directly; indefinite ones go to jsonpath-plus.
 */

export type PathRoot = 'input' | 'context' | 'variable';

type JaywayFunction = 'length' | 'size' | 'min' | 'max' | 'avg' | 'sum' | 'stddev' | 'first' | 'last' | 'keys';

export interface CompiledPath {
  readonly text: string;
  readonly root: PathRoot;
  /** For `$name...` paths: the variable's name. */
  readonly variable: string | undefined;
  /** The steps after the root when the path is definite; `undefined` when it is not. */
  readonly segments: readonly (string | number)[] | undefined;
  /** The path after the root token, rewritten from `$`, for the indefinite evaluator. */
  readonly rest: string;
  /** A trailing Jayway function such as `.length()`. */
  readonly fn: JaywayFunction | undefined;
}

export class PathSyntaxError extends EngineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PathSyntaxError';
  }
}

/** Marker for a definite path that matched nothing. */
export const NOT_FOUND: unique symbol = Symbol('NOT_FOUND');
export type PathResult = JsonValue | typeof NOT_FOUND;

const cache = new Map<string, CompiledPath>();
const IDENT_START = /[A-Za-z_]/;
const IDENT = /[A-Za-z0-9_]/;
const FUNCTIONS = new Set<JaywayFunction>([
  'length',
  'size',
  'min',
  'max',
  'avg',
  'sum',
  'stddev',
  'first',
  'last',
  'keys',
]);

/** Parses a path once; later calls with the same text return the same compiled path. */
export function compilePath(text: string): CompiledPath {
  const hit = cache.get(text);
  if (hit) return hit;
  const compiled = parsePath(text);
  if (cache.size > 10_000) cache.clear();
  cache.set(text, compiled);
  return compiled;
}

function parsePath(text: string): CompiledPath {
  if (typeof text !== 'string' || !text.startsWith('$')) throw new PathSyntaxError(`'${text}' does not start with '$'`);
  let root: PathRoot = 'input';
  let variable: string | undefined;
  let i = 1;
  if (text.startsWith('$$')) {
    root = 'context';
    i = 2;
  } else if (text.length > 1 && IDENT_START.test(text[1] as string)) {
    root = 'variable';
    while (i < text.length && IDENT.test(text[i] as string)) i++;
    variable = text.slice(1, i);
  }
  let rest = text.slice(i);
  let fn: JaywayFunction | undefined;
  const fnMatch = /\.([a-z]+)\(\)$/.exec(rest);
  if (fnMatch && FUNCTIONS.has(fnMatch[1] as JaywayFunction)) {
    fn = fnMatch[1] as JaywayFunction;
    rest = rest.slice(0, fnMatch.index);
  }
  const segments = parseDefinite(rest, text);
  if (segments === undefined) checkBalanced(rest, text);
  return { text, root, variable, segments, rest, fn };
}

/** Parses `.a['b'][0]` into steps, or returns undefined when the path is indefinite. */
function parseDefinite(rest: string, text: string): (string | number)[] | undefined {
  const segments: (string | number)[] = [];
  let i = 0;
  while (i < rest.length) {
    const c = rest[i];
    if (c === '.') {
      if (rest[i + 1] === '.' || rest[i + 1] === '*') return undefined;
      // `$.abc.['def ghi']`: a dot before brackets, as AWS's guide writes names with other characters.
      if (rest[i + 1] === '[') {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < rest.length && rest[j] !== '.' && rest[j] !== '[') j++;
      const name = rest.slice(i + 1, j);
      if (name === '') throw new PathSyntaxError(`empty member name in '${text}'`);
      if (/[\s()]/.test(name) || name.includes('?')) return undefined;
      segments.push(name);
      i = j;
    } else if (c === '[') {
      const close = findClose(rest, i, text);
      const inner = rest.slice(i + 1, close).trim();
      const quoted = /^'((?:[^'\\]|\\.)*)'$|^"((?:[^"\\]|\\.)*)"$/.exec(inner);
      if (quoted) segments.push((quoted[1] ?? quoted[2] ?? '').replace(/\\(.)/g, '$1'));
      else if (/^-?\d+$/.test(inner)) segments.push(Number(inner));
      else if (inner === '') throw new PathSyntaxError(`empty brackets in '${text}'`);
      else return undefined; // '*', filter, slice or union
      i = close + 1;
    } else {
      throw new PathSyntaxError(`unexpected '${c}' in '${text}'`);
    }
  }
  return segments;
}

function findClose(rest: string, open: number, text: string): number {
  let quote: string | undefined;
  let depth = 0;
  for (let i = open; i < rest.length; i++) {
    const c = rest[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[') depth++;
    else if (c === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw new PathSyntaxError(`unclosed '[' in '${text}'`);
}

function checkBalanced(rest: string, text: string): void {
  let i = 0;
  while (i < rest.length) {
    if (rest[i] === '[') i = findClose(rest, i, text) + 1;
    else if (rest[i] === ']') throw new PathSyntaxError(`unexpected ']' in '${text}'`);
    else i++;
  }
}

/** Evaluates a compiled path against the value its root names (input, context object or variable value). */
export function evaluatePath(path: CompiledPath, root: unknown): PathResult {
  let value: PathResult;
  if (path.segments) {
    let cur: unknown = root;
    for (const seg of path.segments) {
      if (typeof seg === 'number') {
        if (!Array.isArray(cur)) return NOT_FOUND;
        const idx = seg < 0 ? cur.length + seg : seg;
        if (idx < 0 || idx >= cur.length) return NOT_FOUND;
        cur = cur[idx];
      } else {
        if (!isObject(cur) || !Object.hasOwn(cur, seg)) return NOT_FOUND;
        cur = cur[seg];
      }
    }
    value = cur as JsonValue;
  } else {
    value = JSONPath({ path: `$${path.rest}`, json: root as object, wrap: true, eval: 'safe' }) as JsonValue[];
  }
  return path.fn ? applyFunction(path.fn, value) : value;
}

function applyFunction(fn: JaywayFunction, value: PathResult): PathResult {
  if (value === NOT_FOUND) return NOT_FOUND;
  if (fn === 'keys') return isObject(value) ? Object.keys(value) : NOT_FOUND;
  if (fn === 'length' || fn === 'size') {
    if (Array.isArray(value)) return value.length;
    if (typeof value === 'string') return value.length;
    if (isObject(value)) return Object.keys(value).length;
    return NOT_FOUND;
  }
  if (!Array.isArray(value)) return NOT_FOUND;
  if (fn === 'first') return value.length ? (value[0] as JsonValue) : NOT_FOUND;
  if (fn === 'last') return value.length ? (value[value.length - 1] as JsonValue) : NOT_FOUND;
  const nums = value.filter((v): v is number => typeof v === 'number');
  if (nums.length === 0) return NOT_FOUND;
  const sum = nums.reduce((a, b) => a + b, 0);
  if (fn === 'sum') return sum;
  if (fn === 'min') return Math.min(...nums);
  if (fn === 'max') return Math.max(...nums);
  const avg = sum / nums.length;
  if (fn === 'avg') return avg;
  return Math.sqrt(nums.reduce((a, b) => a + (b - avg) ** 2, 0) / nums.length);
}

/** Jayway's rendering of a definite path in messages: `$['a'][0]['b']`. */
export function bracketNotation(path: CompiledPath): string {
  const head = path.root === 'context' ? '$$' : path.root === 'variable' ? `$${path.variable}` : '$';
  if (!path.segments) return path.text;
  return head + path.segments.map((s) => (typeof s === 'number' ? `[${s}]` : `['${s}']`)).join('');
}

/**
 * A reference path (ResultPath and the like): definite, rooted at the input. Returns the steps, or throws when the
 * path may not be used as a reference path.
 */
export function compileReferencePath(text: string): readonly (string | number)[] {
  const path = compilePath(text);
  if (path.root !== 'input' || !path.segments || path.fn) {
    throw new PathSyntaxError(`'${text}' is not a valid reference path`);
  }
  return path.segments;
}

/**
 * Puts `value` at `segments` inside a copy of `target`, creating missing objects on the way. Returns undefined
 * when a step cannot be taken (a member of something that is not an object, an index out of range).
 */
export function setAtPath(
  target: unknown,
  segments: readonly (string | number)[],
  value: JsonValue,
): JsonValue | undefined {
  if (segments.length === 0) return value;
  const [head, ...tail] = segments as [string | number, ...(string | number)[]];
  if (typeof head === 'number') {
    if (!Array.isArray(target)) return undefined;
    const idx = head < 0 ? target.length + head : head;
    if (idx < 0 || idx >= target.length) return undefined;
    const inner = setAtPath(target[idx], tail, value);
    if (inner === undefined) return undefined;
    const copy = target.slice();
    copy[idx] = inner;
    return copy as JsonValue;
  }
  if (!isObject(target)) return undefined;
  const child = Object.hasOwn(target, head) ? target[head] : {};
  const inner = setAtPath(child, tail, value);
  if (inner === undefined) return undefined;
  return { ...target, [head]: inner };
}
