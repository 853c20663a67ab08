import { createHash, randomUUID } from 'node:crypto';
import { EngineError } from './errors';
import { isObject, jsonEquals, jsonTypeName } from './json';
import { type CompiledPath, compilePath } from './jsonpath';
import type { JsonValue } from './types';

/**
 * The intrinsic functions of JSONPath states (`States.Format(...)` and the rest): a parser that runs when the
 * definition is loaded, and an evaluator. Arguments are string literals in single quotes (with the escapes `\'`,
 * `\{`, `\}`, `\\`), numbers, `true`/`false`/`null`, paths (`$.x`, `$$.x`, `$var`) and nested calls.
 */

export type IntrinsicArg =
  | {
      readonly kind: 'literal';
      readonly value: JsonValue;
      readonly formatParts?: readonly string[];
      /** An open escape backslash in the string: AWS fails the call when it runs, not when it loads. */
      readonly openEscape?: string;
    }
  | { readonly kind: 'path'; readonly path: CompiledPath }
  | { readonly kind: 'call'; readonly call: IntrinsicCall };

export interface IntrinsicCall {
  readonly name: string;
  readonly args: readonly IntrinsicArg[];
}

export class IntrinsicSyntaxError extends EngineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IntrinsicSyntaxError';
  }
}

/** A failure while evaluating an intrinsic: AWS reports it as States.Runtime. */
export class IntrinsicEvaluationError extends EngineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IntrinsicEvaluationError';
  }
}

/** Arity of each function: [minimum, maximum] arguments. */
const ARITY: Record<string, readonly [number, number]> = {
  'States.Format': [1, Number.POSITIVE_INFINITY],
  'States.StringToJson': [1, 1],
  'States.JsonToString': [1, 1],
  'States.Array': [0, Number.POSITIVE_INFINITY],
  'States.ArrayPartition': [2, 2],
  'States.ArrayContains': [2, 2],
  'States.ArrayRange': [3, 3],
  'States.ArrayGetItem': [2, 2],
  'States.ArrayLength': [1, 1],
  'States.ArrayUnique': [1, 1],
  'States.Base64Encode': [1, 1],
  'States.Base64Decode': [1, 1],
  'States.Hash': [2, 2],
  'States.JsonMerge': [3, 3],
  'States.MathRandom': [2, 3],
  'States.MathAdd': [2, 2],
  'States.StringSplit': [2, 2],
  'States.UUID': [0, 0],
};

const MAX_NESTING = 10;

export function looksLikeIntrinsic(text: string): boolean {
  return text.trimStart().startsWith('States.');
}

const cache = new Map<string, IntrinsicCall>();

export function parseIntrinsic(text: string): IntrinsicCall {
  const hit = cache.get(text);
  if (hit) return hit;
  const parser = new Parser(text);
  const call = parser.parseCall(0);
  parser.skipSpace();
  if (!parser.done()) throw new IntrinsicSyntaxError(`unexpected text after the call in '${text}'`);
  cache.set(text, call);
  return call;
}

class Parser {
  private pos = 0;
  public constructor(private readonly text: string) {}

  public done(): boolean {
    return this.pos >= this.text.length;
  }

  public skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] as string)) this.pos++;
  }

  public parseCall(depth: number): IntrinsicCall {
    if (depth >= MAX_NESTING) throw new IntrinsicSyntaxError(`more than ${MAX_NESTING} nested intrinsic functions`);
    this.skipSpace();
    const m = /^States\.[A-Za-z0-9]+/.exec(this.text.slice(this.pos));
    if (!m) throw new IntrinsicSyntaxError(`expected an intrinsic function at position ${this.pos} of '${this.text}'`);
    const name = m[0];
    const arity = ARITY[name];
    if (!arity) throw new IntrinsicSyntaxError(`unknown intrinsic function '${name}'`);
    this.pos += name.length;
    this.skipSpace();
    if (this.text[this.pos] !== '(') throw new IntrinsicSyntaxError(`expected '(' after ${name}`);
    this.pos++;
    const args: IntrinsicArg[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ')') this.pos++;
    else {
      for (;;) {
        args.push(this.parseArg(depth));
        this.skipSpace();
        const c = this.text[this.pos];
        this.pos++;
        if (c === ')') break;
        if (c !== ',') throw new IntrinsicSyntaxError(`expected ',' or ')' in the arguments of ${name}`);
      }
    }
    if (args.length < arity[0] || args.length > arity[1]) {
      const want =
        arity[0] === arity[1]
          ? `${arity[0]}`
          : arity[1] === Number.POSITIVE_INFINITY
            ? `at least ${arity[0]}`
            : `${arity[0]} to ${arity[1]}`;
      throw new IntrinsicSyntaxError(`${name} takes ${want} argument(s), got ${args.length}`);
    }
    if (name === 'States.Format') {
      const first = args[0];
      if (first?.kind === 'literal' && typeof first.value !== 'string') {
        throw new IntrinsicSyntaxError('the first argument of States.Format must be a string');
      }
    }
    return { name, args };
  }

  private parseArg(depth: number): IntrinsicArg {
    this.skipSpace();
    const rest = this.text.slice(this.pos);
    const c = rest[0];
    if (c === "'") return this.parseString();
    if (c === '$') {
      const end = this.scanPathEnd();
      const pathText = this.text.slice(this.pos, end).trim();
      this.pos = end;
      try {
        return { kind: 'path', path: compilePath(pathText) };
      } catch (err) {
        throw new IntrinsicSyntaxError(`invalid path argument '${pathText}': ${(err as Error).message}`);
      }
    }
    if (rest.startsWith('States.')) return { kind: 'call', call: this.parseCall(depth + 1) };
    const num = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(rest);
    if (num) {
      this.pos += num[0].length;
      return { kind: 'literal', value: Number(num[0]) };
    }
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (rest.startsWith(word) && !/[A-Za-z0-9_]/.test(rest[word.length] ?? '')) {
        this.pos += word.length;
        return { kind: 'literal', value };
      }
    }
    throw new IntrinsicSyntaxError(`unexpected argument at position ${this.pos} of '${this.text}'`);
  }

  /** A path argument ends at the first ',' or ')' outside brackets, parentheses and quotes. */
  private scanPathEnd(): number {
    let depth = 0;
    let quote: string | undefined;
    for (let i = this.pos; i < this.text.length; i++) {
      const c = this.text[i];
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '[' || c === '(') depth++;
      else if (c === ']' || (c === ')' && depth > 0)) depth--;
      else if ((c === ',' || c === ')') && depth === 0) return i;
    }
    return this.text.length;
  }

  private parseString(): IntrinsicArg {
    this.pos++; // opening quote
    let value = '';
    const formatParts: string[] = [];
    let part = '';
    let openEscape: string | undefined;
    for (;;) {
      if (this.pos >= this.text.length) throw new IntrinsicSyntaxError(`unterminated string in '${this.text}'`);
      const c = this.text[this.pos] as string;
      if (c === '\\') {
        const n = this.text[this.pos + 1];
        if (n === undefined || !"'{}\\".includes(n)) {
          // "If an open escape backslash \ is found in the intrinsic invocation string, the interpreter will
          // return a runtime error" (intrinsic-functions.html): the backslash stays, the call fails when it runs.
          openEscape ??= `invalid escape '\\${n ?? ''}' in '${this.text}'`;
          value += c;
          part += c;
          this.pos++;
          continue;
        }
        value += n;
        part += n;
        this.pos += 2;
        continue;
      }
      if (c === "'") {
        this.pos++;
        break;
      }
      if (c === '{' && this.text[this.pos + 1] === '}') {
        formatParts.push(part);
        part = '';
        value += '{}';
        this.pos += 2;
        continue;
      }
      value += c;
      part += c;
      this.pos++;
    }
    formatParts.push(part);
    return openEscape ? { kind: 'literal', value, formatParts, openEscape } : { kind: 'literal', value, formatParts };
  }
}

/** Resolves a path argument; returns undefined when the path matches nothing. */
export type PathResolver = (path: CompiledPath) => JsonValue | undefined;

export function evaluateIntrinsic(call: IntrinsicCall, resolve: PathResolver): JsonValue {
  const values: JsonValue[] = [];
  for (const arg of call.args) {
    if (arg.kind === 'literal') {
      if (arg.openEscape) throw new IntrinsicEvaluationError(`${call.name}: ${arg.openEscape}`);
      values.push(arg.value);
    } else if (arg.kind === 'call') values.push(evaluateIntrinsic(arg.call, resolve));
    else {
      const v = resolve(arg.path);
      if (v === undefined) {
        throw new IntrinsicEvaluationError(
          `The JSONPath '${arg.path.text}' specified as an argument of ${call.name} could not be found in the input`,
        );
      }
      values.push(v);
    }
  }
  return FUNCTIONS[call.name]!(values, call);
}

type Impl = (args: JsonValue[], call: IntrinsicCall) => JsonValue;

function fail(call: IntrinsicCall, message: string): never {
  throw new IntrinsicEvaluationError(`${call.name}: ${message}`);
}

function argArray(call: IntrinsicCall, v: JsonValue, position: string): JsonValue[] {
  if (!Array.isArray(v)) fail(call, `the ${position} argument must be an array, got ${jsonTypeName(v)}`);
  return v;
}

function argString(call: IntrinsicCall, v: JsonValue, position: string): string {
  if (typeof v !== 'string') fail(call, `the ${position} argument must be a string, got ${jsonTypeName(v)}`);
  return v;
}

function argInteger(call: IntrinsicCall, v: JsonValue, position: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    fail(call, `the ${position} argument must be an integer, got ${jsonTypeName(v)}`);
  }
  if (!Number.isInteger(v)) fail(call, `the ${position} argument must be an integer, got ${v}`);
  return v;
}

/** Numbers that AWS rounds to an integer (Java's Math.round: half up). */
function argRounded(call: IntrinsicCall, v: JsonValue, position: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    fail(call, `the ${position} argument must be a number, got ${jsonTypeName(v)}`);
  }
  return Math.round(v);
}

const ORDINALS = ['first', 'second', 'third'];
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const MAX_STRING = 10_000;
const MAX_RANGE = 1000;
const HASHES: Record<string, string> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

function formatValue(v: JsonValue): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

const FUNCTIONS: Record<string, Impl> = {
  'States.Format': (args, call) => {
    const literal = call.args[0];
    const template = argString(call, args[0] as JsonValue, 'first');
    const parts = literal?.kind === 'literal' && literal.formatParts ? literal.formatParts : template.split('{}');
    const values = args.slice(1);
    if (parts.length - 1 !== values.length) {
      fail(call, `the template has ${parts.length - 1} placeholder(s) '{}' but ${values.length} value(s) were given`);
    }
    let out = parts[0] as string;
    for (let i = 0; i < values.length; i++) out += formatValue(values[i] as JsonValue) + parts[i + 1];
    return out;
  },
  'States.StringToJson': (args, call) => {
    const s = argString(call, args[0] as JsonValue, ORDINALS[0] as string);
    try {
      return JSON.parse(s) as JsonValue;
    } catch {
      return fail(call, `the argument is not valid JSON text: ${s.slice(0, 200)}`);
    }
  },
  'States.JsonToString': (args) => JSON.stringify(args[0]),
  'States.Array': (args) => args,
  'States.ArrayPartition': (args, call) => {
    const arr = argArray(call, args[0] as JsonValue, 'first');
    const size = argRounded(call, args[1] as JsonValue, 'second');
    if (size <= 0) fail(call, `the chunk size must be a positive integer, got ${size}`);
    const out: JsonValue[] = [];
    for (let i = 0; i < arr.length; i += size) out.push(arr.slice(i, i + size));
    return out;
  },
  'States.ArrayContains': (args, call) => {
    const arr = argArray(call, args[0] as JsonValue, 'first');
    return arr.some((v) => jsonEquals(v, args[1]));
  },
  'States.ArrayRange': (args, call) => {
    const start = argRounded(call, args[0] as JsonValue, 'first');
    const end = argRounded(call, args[1] as JsonValue, 'second');
    const step = argRounded(call, args[2] as JsonValue, 'third');
    if (step === 0) fail(call, 'the step must not be 0');
    const out: number[] = [];
    for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
      out.push(v);
      if (out.length > MAX_RANGE) fail(call, `the range has more than ${MAX_RANGE} items`);
    }
    return out;
  },
  'States.ArrayGetItem': (args, call) => {
    const arr = argArray(call, args[0] as JsonValue, 'first');
    const index = argInteger(call, args[1] as JsonValue, 'second');
    if (index < 0 || index >= arr.length)
      fail(call, `the index ${index} is out of bounds for an array of ${arr.length}`);
    return arr[index] as JsonValue;
  },
  'States.ArrayLength': (args, call) => argArray(call, args[0] as JsonValue, 'first').length,
  'States.ArrayUnique': (args, call) => {
    const arr = argArray(call, args[0] as JsonValue, 'first');
    const out: JsonValue[] = [];
    for (const v of arr) if (!out.some((u) => jsonEquals(u, v))) out.push(v);
    return out;
  },
  'States.Base64Encode': (args, call) => {
    const s = argString(call, args[0] as JsonValue, 'first');
    if (s.length > MAX_STRING) fail(call, `the input is longer than ${MAX_STRING} characters`);
    return Buffer.from(s, 'utf8').toString('base64');
  },
  'States.Base64Decode': (args, call) => {
    const s = argString(call, args[0] as JsonValue, 'first');
    if (s.length > MAX_STRING) fail(call, `the input is longer than ${MAX_STRING} characters`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) fail(call, 'the input is not valid base64');
    return Buffer.from(s, 'base64').toString('utf8');
  },
  'States.Hash': (args, call) => {
    const data = args[0];
    if (data === null || data === undefined) fail(call, 'the data to hash must not be null');
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    if (text.length > MAX_STRING) fail(call, `the input is longer than ${MAX_STRING} characters`);
    const algorithm = argString(call, args[1] as JsonValue, 'second');
    const node = HASHES[algorithm];
    if (!node) fail(call, `the algorithm '${algorithm}' is not one of ${Object.keys(HASHES).join(', ')}`);
    return createHash(node).update(text, 'utf8').digest('hex');
  },
  'States.JsonMerge': (args, call) => {
    const a = args[0];
    const b = args[1];
    if (!isObject(a)) fail(call, `the first argument must be a JSON object, got ${jsonTypeName(a)}`);
    if (!isObject(b)) fail(call, `the second argument must be a JSON object, got ${jsonTypeName(b)}`);
    if (typeof args[2] !== 'boolean') fail(call, 'the third argument must be a boolean');
    if (args[2]) fail(call, 'deep merging is not supported: the third argument must be false');
    return { ...a, ...b };
  },
  'States.MathRandom': (args, call) => {
    const start = argRounded(call, args[0] as JsonValue, 'first');
    const end = argRounded(call, args[1] as JsonValue, 'second');
    if (end <= start) fail(call, `the end (${end}) must be greater than the start (${start})`);
    const r = args.length > 2 ? seededRandom(argRounded(call, args[2] as JsonValue, 'third')) : Math.random();
    return start + Math.floor(r * (end - start));
  },
  'States.MathAdd': (args, call) => {
    const a = argRounded(call, args[0] as JsonValue, 'first');
    const b = argRounded(call, args[1] as JsonValue, 'second');
    for (const v of [a, b]) if (v < INT_MIN || v > INT_MAX) fail(call, `${v} is outside the 32-bit integer range`);
    return a + b;
  },
  'States.StringSplit': (args, call) => {
    const s = argString(call, args[0] as JsonValue, 'first');
    const delimiters = argString(call, args[1] as JsonValue, 'second');
    return splitOnAny(s, delimiters);
  },
  'States.UUID': () => randomUUID(),
};

/** Splits on any of the delimiter characters and drops empty tokens (Java's StringTokenizer, as AWS does). */
export function splitOnAny(s: string, delimiters: string): string[] {
  if (delimiters === '') return s === '' ? [] : [s];
  const set = new Set(delimiters);
  const out: string[] = [];
  let cur = '';
  for (const ch of s) {
    if (set.has(ch)) {
      if (cur !== '') out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

/** A deterministic number in [0, 1) for a seed (mulberry32). */
export function seededRandom(seed: number): number {
  let t = (seed + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
