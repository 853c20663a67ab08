import { EngineError, runtimeError } from './errors';
import {
  evaluateIntrinsic,
  type IntrinsicCall,
  IntrinsicEvaluationError,
  looksLikeIntrinsic,
  parseIntrinsic,
} from './intrinsics';
import { isObject, toJsonText } from './json';
import {
  type CompiledExpression,
  compileJsonata,
  evaluateJsonata,
  isJsonataString,
  isMalformedJsonata,
  jsonataBody,
  type StatesBinding,
} from './jsonata';
import { type CompiledPath, compilePath, evaluatePath, NOT_FOUND, type PathResult } from './jsonpath';
import type { JsonObject, JsonValue } from './types';
import type { VariableScope } from './variables';

/**
 * Payload templates: the values of Parameters, ResultSelector, ItemSelector and Assign in JSONPath states (keys
 * ending in `.$` are paths or intrinsic functions), and of Arguments, Output, Assign, Items and the rest in
 * JSONata states (strings `{% ... %}` are expressions). Both are compiled once, when the definition is loaded.
 */

/** What a JSONPath field is evaluated against. */
export interface PathEnv {
  /** The document that `$` denotes for this field. */
  readonly input: JsonValue;
  /** The context object (`$$`), built on demand. */
  readonly context: () => JsonObject;
  readonly vars: VariableScope;
}

export class TemplateError extends EngineError {
  public constructor(
    message: string,
    public readonly pointer: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TemplateError';
  }
}

/** Resolves a path against the document its root names; NOT_FOUND when it matches nothing. */
export function resolvePath(path: CompiledPath, env: PathEnv): PathResult {
  if (path.root === 'input') return evaluatePath(path, env.input);
  if (path.root === 'context') return evaluatePath(path, env.context());
  const value = env.vars.get(path.variable as string);
  if (value === undefined) return NOT_FOUND;
  return evaluatePath(path, value);
}

/** Evaluates a single path or intrinsic (as in ErrorPath, CausePath, Variable); NOT_FOUND for a missing path. */
export type DynamicValue =
  | { readonly kind: 'path'; readonly path: CompiledPath }
  | { readonly kind: 'intrinsic'; readonly call: IntrinsicCall };

export function compileDynamic(text: string, pointer: string, allowIntrinsic = true): DynamicValue {
  if (typeof text !== 'string') throw new TemplateError('must be a string', pointer);
  if (allowIntrinsic && looksLikeIntrinsic(text)) {
    try {
      return { kind: 'intrinsic', call: parseIntrinsic(text) };
    } catch (err) {
      throw new TemplateError(`invalid intrinsic function: ${(err as Error).message}`, pointer);
    }
  }
  try {
    return { kind: 'path', path: compilePath(text) };
  } catch (err) {
    throw new TemplateError(`invalid JSONPath: ${(err as Error).message}`, pointer);
  }
}

export function evaluateDynamic(value: DynamicValue, env: PathEnv): PathResult {
  if (value.kind === 'path') return resolvePath(value.path, env);
  try {
    return evaluateIntrinsic(value.call, (p) => {
      const r = resolvePath(p, env);
      return r === NOT_FOUND ? undefined : r;
    });
  } catch (err) {
    if (err instanceof IntrinsicEvaluationError) throw runtimeError(err.message);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------- JSONPath templates

type PathNode =
  | { readonly k: 'lit'; readonly v: JsonValue }
  | { readonly k: 'dyn'; readonly d: DynamicValue; readonly field: string }
  | { readonly k: 'obj'; readonly entries: readonly (readonly [string, PathNode])[] }
  | { readonly k: 'arr'; readonly items: readonly PathNode[] };

export interface PathTemplate {
  readonly root: PathNode;
}

/** Compiles a JSONPath payload template; `pointer` is the JSON pointer of the field, for diagnostics. */
export function compilePathTemplate(value: unknown, pointer: string): PathTemplate {
  return { root: compilePathNode(value, pointer) };
}

function compilePathNode(value: unknown, pointer: string): PathNode {
  if (Array.isArray(value)) {
    const items = value.map((v, i) => compilePathNode(v, `${pointer}/${i}`));
    if (items.every((n) => n.k === 'lit')) return { k: 'lit', v: value as JsonValue };
    return { k: 'arr', items };
  }
  if (isObject(value)) {
    const entries: (readonly [string, PathNode])[] = [];
    let dynamic = false;
    for (const [key, v] of Object.entries(value)) {
      if (key.endsWith('.$') && key.length > 2) {
        if (typeof v !== 'string') {
          throw new TemplateError(
            `The value for the field '${key}' must be a STRING that contains a JSONPath`,
            `${pointer}/${key}`,
          );
        }
        const d = compileDynamic(v, `${pointer}/${key}`);
        entries.push([key.slice(0, -2), { k: 'dyn', d, field: key }]);
        dynamic = true;
      } else {
        const node = compilePathNode(v, `${pointer}/${key}`);
        if (node.k !== 'lit') dynamic = true;
        entries.push([key, node]);
      }
    }
    if (!dynamic) return { k: 'lit', v: value as JsonValue };
    return { k: 'obj', entries };
  }
  return { k: 'lit', v: value as JsonValue };
}

export function evaluatePathTemplate(template: PathTemplate, env: PathEnv): JsonValue {
  return evalPathNode(template.root, env);
}

function evalPathNode(node: PathNode, env: PathEnv): JsonValue {
  switch (node.k) {
    case 'lit':
      return node.v;
    case 'dyn': {
      const r = evaluateDynamic(node.d, env);
      if (r === NOT_FOUND) {
        const text = node.d.kind === 'path' ? node.d.path.text : '';
        throw runtimeError(
          `The JSONPath '${text}' specified for the field '${node.field}' could not be found in the input '${toJsonText(env.input)}'`,
        );
      }
      return r;
    }
    case 'obj': {
      const out: JsonObject = {};
      for (const [key, child] of node.entries) out[key] = evalPathNode(child, env);
      return out;
    }
    case 'arr':
      return node.items.map((n) => evalPathNode(n, env));
  }
}

// ----------------------------------------------------------------------------------------------- JSONata templates

type AtaNode =
  | { readonly k: 'lit'; readonly v: JsonValue }
  | { readonly k: 'expr'; readonly e: CompiledExpression; readonly location: string }
  | { readonly k: 'obj'; readonly entries: readonly (readonly [string, AtaNode])[] }
  | { readonly k: 'arr'; readonly items: readonly AtaNode[] };

export interface AtaTemplate {
  readonly root: AtaNode;
  readonly dynamic: boolean;
}

/** What a JSONata field is evaluated with. */
export interface AtaEnv {
  readonly states: StatesBinding;
  readonly vars: VariableScope;
}

/**
 * Compiles a JSONata template. `location` is AWS's name of the field in messages (`Output`, `Arguments/x`),
 * `pointer` the JSON pointer for diagnostics.
 */
export function compileAtaTemplate(value: unknown, location: string, pointer: string): AtaTemplate {
  const root = compileAtaNode(value, location, pointer);
  return { root, dynamic: root.k !== 'lit' };
}

function compileAtaNode(value: unknown, location: string, pointer: string): AtaNode {
  if (isMalformedJsonata(value)) {
    throw new TemplateError(
      "a JSONata expression must start with '{%' and end with '%}', with no spaces before or after",
      pointer,
    );
  }
  if (isJsonataString(value)) {
    const body = jsonataBody(value) as string;
    try {
      return { k: 'expr', e: compileJsonata(body), location };
    } catch (err) {
      throw new TemplateError(`invalid JSONata expression '${body}': ${(err as Error).message}`, pointer);
    }
  }
  if (Array.isArray(value)) {
    const items = value.map((v, i) => compileAtaNode(v, `${location}/${i}`, `${pointer}/${i}`));
    if (items.every((n) => n.k === 'lit')) return { k: 'lit', v: value as JsonValue };
    return { k: 'arr', items };
  }
  if (isObject(value)) {
    const entries = Object.entries(value).map(
      ([key, v]) => [key, compileAtaNode(v, `${location}/${key}`, `${pointer}/${key}`)] as const,
    );
    if (entries.every(([, n]) => n.k === 'lit')) return { k: 'lit', v: value as JsonValue };
    return { k: 'obj', entries };
  }
  return { k: 'lit', v: value as JsonValue };
}

/** The text of every expression in a template. */
export function expressionsOf(template: AtaTemplate): string[] {
  const out: string[] = [];
  const walk = (node: AtaNode): void => {
    if (node.k === 'expr') out.push(node.e.text);
    else if (node.k === 'obj') for (const [, child] of node.entries) walk(child);
    else if (node.k === 'arr') for (const child of node.items) walk(child);
  };
  walk(template.root);
  return out;
}

export async function evaluateAtaTemplate(template: AtaTemplate, env: AtaEnv): Promise<JsonValue> {
  if (template.root.k === 'lit') return template.root.v;
  return evalAtaNode(template.root, env, env.vars.all());
}

async function evalAtaNode(node: AtaNode, env: AtaEnv, variables: Record<string, unknown>): Promise<JsonValue> {
  switch (node.k) {
    case 'lit':
      return node.v;
    case 'expr':
      return evaluateJsonata(node.e, env.states, variables, node.location);
    case 'obj': {
      const out: JsonObject = {};
      for (const [key, child] of node.entries) out[key] = await evalAtaNode(child, env, variables);
      return out;
    }
    case 'arr': {
      const out: JsonValue[] = [];
      for (const child of node.items) out.push(await evalAtaNode(child, env, variables));
      return out;
    }
  }
}
