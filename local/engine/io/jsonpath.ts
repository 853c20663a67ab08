import { type ChoicePredicate, compileChoiceRule, parseTimestamp } from '../choice';
import type {
  ChoiceRule,
  ChoiceState,
  FailField,
  FailState,
  MapState,
  NumberSpec,
  StateType,
  WaitState,
} from '../compiled';
import { runtimeError, StatesError } from '../errors';
import { isObject, toJsonText } from '../json';
import {
  bracketNotation,
  type CompiledPath,
  compilePath,
  compileReferencePath,
  NOT_FOUND,
  PathSyntaxError,
  setAtPath,
} from '../jsonpath';
import type { StateRun, Step } from '../state-run';
import {
  compileDynamic,
  compilePathTemplate,
  evaluateDynamic,
  evaluatePathTemplate,
  type PathEnv,
  type PathTemplate,
  resolvePath,
  TemplateError,
} from '../templates';
import type { JsonObject, JsonValue } from '../types';
import type { VariableScope } from '../variables';
import { assignObject, literalNumber, literalTimestamp, numberFieldForm, onlyFields, pathNumber } from './shared';
import type { Branch, ChoiceCondition, Diagnostics, Failure, Language, NumberLimits, StateIO } from './types';

/**
 * Input and output processing of JSONPath states: InputPath, Parameters, ResultSelector, ResultPath, OutputPath,
 * Assign and the `…Path` fields, evaluated with Jayway's semantics (a missing path is States.Runtime). Everything
 * here answers synchronously.
 */

export type ResultPathSpec =
  | { readonly kind: 'replace' }
  | { readonly kind: 'discard' }
  | { readonly kind: 'set'; readonly text: string; readonly segments: readonly (string | number)[] };

interface PathFields {
  readonly inputPath: CompiledPath | null | undefined;
  readonly outputPath: CompiledPath | null | undefined;
  readonly resultPath: ResultPathSpec;
  readonly parameters: PathTemplate | undefined;
  readonly resultSelector: PathTemplate | undefined;
  readonly assign: PathTemplate | undefined;
  readonly itemsPath: CompiledPath | undefined;
  readonly itemSelector: PathTemplate | undefined;
  readonly batchInput: PathTemplate | undefined;
}

/** A Choice rule's or a Catcher's own fields. */
class PathBranch implements Branch {
  public readonly language = 'JSONPath' as const;
  public constructor(
    public readonly assign: PathTemplate | undefined,
    public readonly resultPath: ResultPathSpec,
  ) {}
}

class PathCondition implements ChoiceCondition {
  public readonly language = 'JSONPath' as const;
  public constructor(public readonly predicate: ChoicePredicate) {}
}

/** What the paths of a state read: `$` the given document, `$$` built the first time a path asks for it. */
class StatePathEnv implements PathEnv {
  private ctx: JsonObject | undefined;
  public readonly vars: VariableScope;

  public constructor(
    private readonly run: StateRun,
    public readonly input: JsonValue,
    private readonly mapItem?: JsonObject,
  ) {
    this.vars = run.frame.vars;
  }

  public context(): JsonObject {
    this.ctx ??= this.run.exec.contextObject(this.run, this.mapItem);
    return this.ctx;
  }
}

function requirePath(p: CompiledPath, env: PathEnv): JsonValue {
  const v = resolvePath(p, env);
  if (v === NOT_FOUND) throw runtimeError(`Invalid path '${p.text}' : No results for path: ${bracketNotation(p)}`);
  return v;
}

function applyResultPath(spec: ResultPathSpec, input: JsonValue, result: JsonValue): JsonValue {
  if (spec.kind === 'replace') return result;
  if (spec.kind === 'discard') return input;
  const out = setAtPath(input, spec.segments, result);
  if (out === undefined) {
    throw new StatesError(
      'States.ResultPathMatchFailure',
      `Unable to apply ResultPath "${spec.text}" to input "${toJsonText(input)}"`,
    );
  }
  return out;
}

function assigned(run: StateRun, template: PathTemplate | undefined, value: JsonValue): JsonObject | undefined {
  if (!template) return undefined;
  return evaluatePathTemplate(template, new StatePathEnv(run, value)) as JsonObject;
}

function numberFromPath(run: StateRun, spec: NumberSpec, doc: JsonValue, kind: 'integer' | 'float'): number {
  if (spec.kind === 'literal') return spec.value;
  if (spec.kind !== 'path') throw new Error('JSONata number in a JSONPath state');
  const v = resolvePath(spec.path, new StatePathEnv(run, doc));
  if (v === NOT_FOUND)
    throw runtimeError(`Invalid path '${spec.path.text}' : No results for path: ${bracketNotation(spec.path)}`);
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n) || (kind === 'integer' && !Number.isInteger(n))) {
    throw runtimeError(
      `The ${spec.field} field refers to value "${typeof v === 'string' ? v : toJsonText(v)}" which is not a valid ${kind}: ${spec.path.text}`,
    );
  }
  return n;
}

function failField(run: StateRun, f: FailField | undefined): string | undefined {
  if (!f || f.kind === 'jsonata') return undefined;
  if (f.kind === 'literal') return f.value;
  const v = evaluateDynamic(f.value, new StatePathEnv(run, run.input));
  if (v === NOT_FOUND) {
    const text = f.value.kind === 'path' ? f.value.path.text : '';
    throw runtimeError(
      `The JSONPath '${text}' specified for the field '${f.field}' could not be found in the input '${toJsonText(run.input)}'`,
    );
  }
  if (typeof v !== 'string') {
    throw runtimeError(`The ${f.field} field must reference a string, but it references ${toJsonText(v)}`);
  }
  return v;
}

class PathIO implements StateIO {
  public readonly language = 'JSONPath' as const;

  public constructor(private readonly f: PathFields) {}

  public effectiveInput(run: StateRun): JsonValue {
    const p = this.f.inputPath;
    if (p === undefined) return run.input;
    if (p === null) return {};
    return requirePath(p, new StatePathEnv(run, run.input));
  }

  public arguments(run: StateRun, effective: JsonValue): JsonValue {
    const p = this.f.parameters;
    return p ? evaluatePathTemplate(p, new StatePathEnv(run, effective)) : effective;
  }

  public afterResult(run: StateRun, result: JsonValue, next: string | undefined): Step {
    const { resultSelector, resultPath } = this.f;
    const r = resultSelector ? evaluatePathTemplate(resultSelector, new StatePathEnv(run, result)) : result;
    const vars = assigned(run, this.f.assign, r);
    return { output: this.outputPath(run, applyResultPath(resultPath, run.input, r)), assigned: vars, next };
  }

  public passOn(run: StateRun, effective: JsonValue, branch: Branch | undefined, next: string | undefined): Step {
    const vars = assigned(run, branch ? (branch as PathBranch).assign : this.f.assign, effective);
    return { output: this.outputPath(run, effective), assigned: vars, next };
  }

  public caught(run: StateRun, branch: Branch, errorOutput: JsonObject, next: string): Step {
    const b = branch as PathBranch;
    const vars = assigned(run, b.assign, errorOutput);
    return { output: applyResultPath(b.resultPath, run.input, errorOutput), assigned: vars, next };
  }

  public number(
    run: StateRun,
    spec: NumberSpec | undefined,
    doc: JsonValue,
    kind: 'integer' | 'float',
  ): number | undefined {
    return spec ? numberFromPath(run, spec, doc, kind) : undefined;
  }

  public waitMillis(run: StateRun, s: WaitState, effective: JsonValue): number {
    if (s.seconds) {
      const n = numberFromPath(run, s.seconds, effective, 'integer');
      if (n < 0) throw runtimeError(`The SecondsPath parameter references a negative value: ${n}`);
      return n * 1000;
    }
    const ts = s.timestamp;
    if (!ts) return 0;
    const text =
      ts.kind === 'literal'
        ? ts.value
        : requirePath((ts as { path: CompiledPath }).path, new StatePathEnv(run, effective));
    const t = parseTimestamp(text);
    if (t === undefined) {
      throw runtimeError(
        `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${typeof text === 'string' ? text : toJsonText(text)}`,
      );
    }
    return Math.max(0, t - run.exec.config.clock.now());
  }

  public choose(run: StateRun, s: ChoiceState, effective: JsonValue): ChoiceRule | undefined {
    const env = new StatePathEnv(run, effective);
    for (const rule of s.choices) if ((rule.condition as PathCondition).predicate(env)) return rule;
    return undefined;
  }

  public failure(run: StateRun, s: FailState): Failure {
    return { error: failField(run, s.error), cause: failField(run, s.cause) };
  }

  public items(run: StateRun, _state: MapState, effective: JsonValue): JsonValue[] {
    const p = this.f.itemsPath;
    const items = p ? requirePath(p, new StatePathEnv(run, effective)) : effective;
    if (!Array.isArray(items)) {
      throw runtimeError(
        `Item path ${p?.text ?? '$'} in map state refers to value ${toJsonText(items)} which is not a valid array`,
      );
    }
    return items;
  }

  public itemInputs(run: StateRun, effective: JsonValue, items: readonly JsonValue[]): JsonValue[] {
    const selector = this.f.itemSelector;
    if (!selector) return items.slice();
    return items.map((value, index) =>
      evaluatePathTemplate(selector, new StatePathEnv(run, effective, { Index: index, Value: value })),
    );
  }

  public batchInput(run: StateRun, effective: JsonValue): JsonValue | undefined {
    const b = this.f.batchInput;
    return b ? evaluatePathTemplate(b, new StatePathEnv(run, effective)) : undefined;
  }

  private outputPath(run: StateRun, value: JsonValue): JsonValue {
    const p = this.f.outputPath;
    if (p === undefined) return value;
    if (p === null) return {};
    return requirePath(p, new StatePathEnv(run, value));
  }
}

// ----------------------------------------------------------------------------------------------------- compiling

const JSONATA_ONLY = ['Arguments', 'Output', 'Items'];

function optionalPath(
  def: Record<string, unknown>,
  field: string,
  pointer: string,
  diag: Diagnostics,
): CompiledPath | null | undefined {
  if (!(field in def)) return undefined;
  const v = def[field];
  if (v === null) return null;
  if (typeof v !== 'string') {
    diag.schema(`${pointer}/${field}`, `The value for the field '${field}' must be a valid JSONPath or null`);
    return undefined;
  }
  try {
    return compilePath(v);
  } catch (err) {
    diag.schema(
      `${pointer}/${field}`,
      `The value for the field '${field}' must be a valid JSONPath: ${(err as Error).message}`,
    );
    return undefined;
  }
}

function resultPathSpec(v: unknown, pointer: string, diag: Diagnostics): ResultPathSpec {
  if (v === undefined || v === '$') return { kind: 'replace' };
  if (v === null) return { kind: 'discard' };
  if (typeof v !== 'string') {
    diag.schema(pointer, "The value for the field 'ResultPath' must be a valid Reference Path or null");
    return { kind: 'replace' };
  }
  try {
    const segments = compileReferencePath(v);
    return segments.length === 0 ? { kind: 'replace' } : { kind: 'set', text: v, segments };
  } catch (err) {
    diag.schema(
      pointer,
      `The value for the field 'ResultPath' must be a valid Reference Path: ${(err as Error).message}`,
    );
    return { kind: 'replace' };
  }
}

/** A payload template (Parameters, ResultSelector, ItemSelector, BatchInput, Assign). */
export function pathTemplateOf(
  value: unknown,
  pointer: string,
  field: string,
  diag: Diagnostics,
): PathTemplate | undefined {
  if (!isObject(value) && field !== 'Parameters') {
    diag.schema(pointer, `The value for the field '${field}' must be an OBJECT`);
    return undefined;
  }
  try {
    return compilePathTemplate(value, pointer);
  } catch (err) {
    if (err instanceof TemplateError) diag.schema(err.pointer, err.message);
    else throw err;
    return undefined;
  }
}

function fieldTemplate(
  def: Record<string, unknown>,
  field: string,
  pointer: string,
  diag: Diagnostics,
): PathTemplate | undefined {
  return field in def ? pathTemplateOf(def[field], `${pointer}/${field}`, field, diag) : undefined;
}

function assignTemplate(value: unknown, pointer: string, diag: Diagnostics): PathTemplate | undefined {
  const obj = assignObject(value, pointer, diag, true);
  return obj ? pathTemplateOf(obj, pointer, 'Assign', diag) : undefined;
}

function mapFields(
  def: Record<string, unknown>,
  pointer: string,
  parameters: PathTemplate | undefined,
  diag: Diagnostics,
): Pick<PathFields, 'itemsPath' | 'itemSelector' | 'batchInput'> {
  let itemsPath: CompiledPath | undefined;
  if ('ItemsPath' in def) {
    const v = def['ItemsPath'];
    try {
      if (typeof v !== 'string') throw new PathSyntaxError('must be a string');
      itemsPath = compilePath(v);
      // "The value of ItemsPath must be a Reference Path" (input-output-itemspath.html): one node, no function.
      if (!itemsPath.segments || itemsPath.fn) throw new PathSyntaxError(`'${v}' is not a reference path`);
    } catch (err) {
      diag.schema(
        `${pointer}/ItemsPath`,
        `The value for the field 'ItemsPath' must be a valid JSONPath: ${(err as Error).message}`,
      );
    }
  }
  // Parameters is the legacy name of ItemSelector on a Map.
  const itemSelector = 'ItemSelector' in def ? fieldTemplate(def, 'ItemSelector', pointer, diag) : parameters;
  const b = def['ItemBatcher'];
  const batchInput =
    isObject(b) && 'BatchInput' in b
      ? pathTemplateOf(b['BatchInput'], `${pointer}/ItemBatcher/BatchInput`, 'BatchInput', diag)
      : undefined;
  return { itemsPath, itemSelector, batchInput };
}

export const JSONPATH: Language = {
  name: 'JSONPath',

  foreignField(field: string): string | undefined {
    return JSONATA_ONLY.includes(field)
      ? `The field '${field}' is only supported with the JSONata query language`
      : undefined;
  },

  io(def: Record<string, unknown>, pointer: string, type: StateType, diag: Diagnostics): StateIO {
    const inputPath = optionalPath(def, 'InputPath', pointer, diag);
    const outputPath = optionalPath(def, 'OutputPath', pointer, diag);
    const resultPath = resultPathSpec(def['ResultPath'], `${pointer}/ResultPath`, diag);
    const parameters = fieldTemplate(def, 'Parameters', pointer, diag);
    const resultSelector = fieldTemplate(def, 'ResultSelector', pointer, diag);
    const assign = assignTemplate(def['Assign'], `${pointer}/Assign`, diag);
    const map =
      type === 'Map'
        ? mapFields(def, pointer, parameters, diag)
        : { itemsPath: undefined, itemSelector: undefined, batchInput: undefined };
    // On a Map, Parameters selects each item; it is not applied to the Map's input.
    return new PathIO({
      inputPath,
      outputPath,
      resultPath,
      parameters: type === 'Map' ? undefined : parameters,
      resultSelector,
      assign,
      ...map,
    });
  },

  number(def, field, pointer, limits: NumberLimits, diag): NumberSpec | undefined {
    const form = numberFieldForm(def, field, pointer, diag);
    if (form === 'literal') return literalNumber(def[field], field, pointer, limits, diag);
    return form === 'path' ? pathNumber(def, field, pointer, diag) : undefined;
  },

  timestamp(def, pointer, diag) {
    if ('Timestamp' in def) return literalTimestamp(def['Timestamp'], pointer, diag);
    const path = optionalPath(def, 'TimestampPath', pointer, diag);
    return path ? { kind: 'path', path } : undefined;
  },

  failField(def, field, pointer, diag): FailField | undefined {
    const pathField = `${field}Path`;
    if (field in def) {
      const v = def[field];
      if (typeof v !== 'string') {
        diag.schema(`${pointer}/${field}`, `'${field}' must be a string`);
        return undefined;
      }
      return { kind: 'literal', value: v };
    }
    if (!(pathField in def)) return undefined;
    try {
      return {
        kind: 'dynamic',
        value: compileDynamic(def[pathField] as string, `${pointer}/${pathField}`),
        field: pathField,
      };
    } catch (err) {
      if (err instanceof TemplateError) diag.schema(err.pointer, err.message);
      else throw err;
      return undefined;
    }
  },

  choiceRule(rule, pointer, diag) {
    if ('Condition' in rule || 'Output' in rule)
      diag.schema(pointer, "'Condition' and 'Output' are only supported with JSONata");
    try {
      const predicate = compileChoiceRule(rule, pointer, true);
      const assign = assignTemplate(rule['Assign'], `${pointer}/Assign`, diag);
      return { condition: new PathCondition(predicate), branch: new PathBranch(assign, { kind: 'replace' }) };
    } catch (err) {
      if (err instanceof TemplateError) diag.schema(err.pointer, err.message);
      else throw err;
      return undefined;
    }
  },

  catcher(c, pointer, diag): Branch {
    onlyFields(c, ['ErrorEquals', 'Next', 'ResultPath', 'Assign', 'Comment'], pointer, 'a Catcher', diag);
    const resultPath = resultPathSpec(c['ResultPath'], `${pointer}/ResultPath`, diag);
    return new PathBranch(assignTemplate(c['Assign'], `${pointer}/Assign`, diag), resultPath);
  },
};
