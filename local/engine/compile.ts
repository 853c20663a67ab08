import { type ChoicePredicate, compileChoiceRule } from './choice';
import { type DefinitionDiagnostic, InvalidDefinitionError } from './errors';
import { isObject } from './json';
import { isJsonataString } from './jsonata';
import { type CompiledPath, compilePath, compileReferencePath, PathSyntaxError } from './jsonpath';
import { type ParsedResource, parseResource } from './resources';
import {
  type AtaTemplate,
  compileAtaTemplate,
  compileDynamic,
  compilePathTemplate,
  type DynamicValue,
  type PathTemplate,
  TemplateError,
} from './templates';
import type { JsonValue, QueryLanguage, StateMachineDefinition } from './types';
import { VARIABLE_NAME } from './variables';

/**
 * Loads a definition: checks it as CreateStateMachine does (every problem reported with AWS's diagnostic code,
 * the field's JSON pointer and what is wrong) and compiles every path, intrinsic, template, JSONata expression
 * and choice rule once, so that executions only evaluate.
 */

// ------------------------------------------------------------------------------------------------ compiled shapes

export type ResultPathSpec =
  | { readonly kind: 'replace' }
  | { readonly kind: 'discard' }
  | { readonly kind: 'set'; readonly text: string; readonly segments: readonly (string | number)[] };

/** A number field that is a literal, a JSONPath (`…Path`) or a JSONata expression. */
export type NumberSpec =
  | { readonly kind: 'literal'; readonly value: number }
  | { readonly kind: 'path'; readonly path: CompiledPath; readonly field: string }
  | { readonly kind: 'jsonata'; readonly template: AtaTemplate; readonly field: string };

export interface Retrier {
  readonly errorEquals: readonly string[];
  readonly intervalSeconds: number;
  readonly maxAttempts: number;
  readonly backoffRate: number;
  readonly maxDelaySeconds: number | undefined;
  readonly jitter: 'FULL' | 'NONE';
}

export interface Catcher {
  readonly errorEquals: readonly string[];
  readonly next: string;
  readonly resultPath: ResultPathSpec;
  readonly assignPath: PathTemplate | undefined;
  readonly assignAta: AtaTemplate | undefined;
  readonly output: AtaTemplate | undefined;
}

interface StateCommon {
  readonly name: string;
  readonly pointer: string;
  readonly ql: QueryLanguage;
  readonly next: string | undefined;
  readonly end: boolean;
  // JSONPath processing
  readonly inputPath: CompiledPath | null | undefined;
  readonly outputPath: CompiledPath | null | undefined;
  readonly resultPath: ResultPathSpec;
  readonly parameters: PathTemplate | undefined;
  readonly resultSelector: PathTemplate | undefined;
  readonly assignPath: PathTemplate | undefined;
  // JSONata processing
  readonly args: AtaTemplate | undefined;
  readonly output: AtaTemplate | undefined;
  readonly assignAta: AtaTemplate | undefined;
  // errors
  readonly retry: readonly Retrier[];
  readonly catch: readonly Catcher[];
  /** Whether any field of the state reads the context object (`$$`), so that it is built only when needed. */
  readonly usesContext: boolean;
}

export interface PassState extends StateCommon {
  readonly type: 'Pass';
  readonly result: JsonValue | undefined;
}

export interface TaskState extends StateCommon {
  readonly type: 'Task';
  readonly resource: ParsedResource;
  readonly timeout: NumberSpec | undefined;
  readonly heartbeat: NumberSpec | undefined;
  readonly credentials: unknown;
}

export interface ChoiceRuleSpec {
  readonly predicate: ChoicePredicate | undefined;
  readonly condition: AtaTemplate | undefined;
  readonly next: string;
  readonly assignPath: PathTemplate | undefined;
  readonly assignAta: AtaTemplate | undefined;
  readonly output: AtaTemplate | undefined;
}

export interface ChoiceState extends StateCommon {
  readonly type: 'Choice';
  readonly choices: readonly ChoiceRuleSpec[];
  readonly default: string | undefined;
}

export interface WaitState extends StateCommon {
  readonly type: 'Wait';
  readonly seconds: NumberSpec | undefined;
  readonly timestamp:
    | { readonly kind: 'literal'; readonly value: string }
    | { readonly kind: 'path'; readonly path: CompiledPath }
    | { readonly kind: 'jsonata'; readonly template: AtaTemplate }
    | undefined;
}

export interface SucceedState extends StateCommon {
  readonly type: 'Succeed';
}

export type FailField =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'dynamic'; readonly value: DynamicValue; readonly field: string }
  | { readonly kind: 'jsonata'; readonly template: AtaTemplate };

export interface FailState extends StateCommon {
  readonly type: 'Fail';
  readonly error: FailField | undefined;
  readonly cause: FailField | undefined;
}

export interface ParallelState extends StateCommon {
  readonly type: 'Parallel';
  readonly branches: readonly CompiledScope[];
}

export interface MapState extends StateCommon {
  readonly type: 'Map';
  readonly processor: CompiledScope;
  readonly distributed: boolean;
  readonly itemsPath: CompiledPath | undefined;
  readonly items: AtaTemplate | undefined;
  readonly itemSelector: PathTemplate | undefined;
  readonly itemSelectorAta: AtaTemplate | undefined;
  readonly maxConcurrency: NumberSpec | undefined;
  readonly toleratedFailureCount: NumberSpec | undefined;
  readonly toleratedFailurePercentage: NumberSpec | undefined;
  readonly batcher:
    | {
        readonly maxItems: NumberSpec | undefined;
        readonly maxBytes: NumberSpec | undefined;
        readonly batchInput: PathTemplate | undefined;
        readonly batchInputAta: AtaTemplate | undefined;
      }
    | undefined;
  readonly label: string | undefined;
}

export type CompiledState =
  | PassState
  | TaskState
  | ChoiceState
  | WaitState
  | SucceedState
  | FailState
  | ParallelState
  | MapState;

export interface CompiledScope {
  readonly startAt: string;
  readonly states: ReadonlyMap<string, CompiledState>;
}

export interface CompiledStateMachine {
  readonly definition: StateMachineDefinition;
  readonly root: CompiledScope;
  readonly timeoutSeconds: number | undefined;
  /** Every Task resource in the definition (the engine checks that it can serve them). */
  readonly resources: readonly ParsedResource[];
}

// ------------------------------------------------------------------------------------------------------ compiling

const STATE_TYPES = ['Pass', 'Task', 'Choice', 'Wait', 'Succeed', 'Fail', 'Parallel', 'Map'] as const;
type StateType = (typeof STATE_TYPES)[number];

const JSONPATH_ONLY = [
  'InputPath',
  'OutputPath',
  'Parameters',
  'ResultPath',
  'ResultSelector',
  'ItemsPath',
  'MaxConcurrencyPath',
  'ToleratedFailureCountPath',
  'ToleratedFailurePercentagePath',
  'TimeoutSecondsPath',
  'HeartbeatSecondsPath',
  'SecondsPath',
  'TimestampPath',
  'ErrorPath',
  'CausePath',
  'Iterator',
];
const JSONATA_ONLY = ['Arguments', 'Output', 'Items'];

const FIELDS: Record<StateType, readonly string[]> = {
  Pass: ['InputPath', 'OutputPath', 'Parameters', 'ResultPath', 'Result', 'Output', 'Assign', 'Next', 'End'],
  Task: [
    'InputPath',
    'OutputPath',
    'Parameters',
    'ResultPath',
    'ResultSelector',
    'Arguments',
    'Output',
    'Assign',
    'Next',
    'End',
    'Resource',
    'TimeoutSeconds',
    'TimeoutSecondsPath',
    'HeartbeatSeconds',
    'HeartbeatSecondsPath',
    'Retry',
    'Catch',
    'Credentials',
  ],
  Choice: ['InputPath', 'OutputPath', 'Output', 'Assign', 'Choices', 'Default'],
  Wait: [
    'InputPath',
    'OutputPath',
    'Output',
    'Assign',
    'Next',
    'End',
    'Seconds',
    'Timestamp',
    'SecondsPath',
    'TimestampPath',
  ],
  Succeed: ['InputPath', 'OutputPath', 'Output'],
  Fail: ['Error', 'Cause', 'ErrorPath', 'CausePath'],
  Parallel: [
    'InputPath',
    'OutputPath',
    'Parameters',
    'ResultPath',
    'ResultSelector',
    'Arguments',
    'Output',
    'Assign',
    'Next',
    'End',
    'Branches',
    'Retry',
    'Catch',
  ],
  Map: [
    'InputPath',
    'OutputPath',
    'Parameters',
    'ResultPath',
    'ResultSelector',
    'Output',
    'Assign',
    'Next',
    'End',
    'Iterator',
    'ItemProcessor',
    'ItemsPath',
    'Items',
    'ItemSelector',
    'ItemReader',
    'ItemBatcher',
    'ResultWriter',
    'MaxConcurrency',
    'MaxConcurrencyPath',
    'ToleratedFailureCount',
    'ToleratedFailureCountPath',
    'ToleratedFailurePercentage',
    'ToleratedFailurePercentagePath',
    'Label',
    'Retry',
    'Catch',
  ],
};

const RESERVED_ERROR_PREFIX = 'States.';
const KNOWN_STATES_ERRORS = new Set([
  'States.ALL',
  'States.DataLimitExceeded',
  'States.ExceedToleratedFailureThreshold',
  'States.HeartbeatTimeout',
  'States.Http.Socket',
  'States.IntrinsicFailure',
  'States.ItemReaderFailed',
  'States.NoChoiceMatched',
  'States.ParameterPathFailure',
  'States.Permissions',
  'States.ResultPathMatchFailure',
  'States.ResultWriterFailed',
  'States.Runtime',
  'States.TaskFailed',
  'States.Timeout',
  'States.QueryEvaluationError',
  'States.BranchFailed',
]);

class Compiler {
  public readonly diagnostics: DefinitionDiagnostic[] = [];
  public readonly resources: ParsedResource[] = [];

  public report(code: string, location: string, message: string): void {
    this.diagnostics.push({ code, location, message });
  }

  public schema(location: string, message: string): void {
    this.report('SCHEMA_VALIDATION_FAILED', location, message);
  }

  /** Compiles a set of states (the machine, a Parallel branch or a Map's processor). */
  public scope(
    def: unknown,
    pointer: string,
    ql: QueryLanguage,
    extraTopFields: readonly string[],
  ): CompiledScope | undefined {
    if (!isObject(def)) {
      this.schema(pointer, 'must be an object with StartAt and States');
      return undefined;
    }
    const allowed = new Set(['StartAt', 'States', 'Comment', ...extraTopFields]);
    for (const key of Object.keys(def))
      if (!allowed.has(key)) this.schema(`${pointer}/${key}`, `Field '${key}' is not supported`);
    const startAt = def['StartAt'];
    const states = def['States'];
    if (typeof startAt !== 'string') this.schema(`${pointer}/StartAt`, 'These fields are required: [StartAt]');
    if (!isObject(states) || Object.keys(states).length === 0) {
      this.schema(`${pointer}/States`, 'These fields are required: [States] (an object with at least one state)');
      return undefined;
    }
    const compiled = new Map<string, CompiledState>();
    for (const [name, stateDef] of Object.entries(states)) {
      const state = this.state(name, stateDef, `${pointer}/States/${name}`, ql);
      if (state) compiled.set(name, state);
    }
    if (typeof startAt === 'string' && !Object.hasOwn(states, startAt)) {
      this.report('MISSING_TRANSITION_TARGET', `${pointer}/StartAt`, `Missing 'Next' target: ${startAt}`);
    }
    // Transitions must stay inside the scope, and every state must be reachable.
    const targets = (s: CompiledState): string[] => {
      const out: string[] = [];
      if (s.next) out.push(s.next);
      if (s.type === 'Choice') {
        for (const c of s.choices) out.push(c.next);
        if (s.default) out.push(s.default);
      }
      for (const c of s.catch) out.push(c.next);
      return out;
    };
    for (const s of compiled.values()) {
      const check = (target: string, where: string): void => {
        if (!Object.hasOwn(states, target))
          this.report('MISSING_TRANSITION_TARGET', where, `Missing 'Next' target: ${target}`);
      };
      if (s.next) check(s.next, `${s.pointer}/Next`);
      if (s.type === 'Choice') {
        s.choices.forEach((c, i) => {
          check(c.next, `${s.pointer}/Choices/${i}/Next`);
        });
        if (s.default) check(s.default, `${s.pointer}/Default`);
      }
      s.catch.forEach((c, i) => {
        check(c.next, `${s.pointer}/Catch/${i}/Next`);
      });
    }
    if (typeof startAt === 'string' && compiled.has(startAt) && compiled.size === Object.keys(states).length) {
      const seen = new Set<string>([startAt]);
      const queue = [startAt];
      while (queue.length) {
        const s = compiled.get(queue.pop() as string);
        if (!s) continue;
        for (const t of targets(s)) {
          if (!seen.has(t)) {
            seen.add(t);
            queue.push(t);
          }
        }
      }
      for (const name of compiled.keys()) {
        if (!seen.has(name))
          this.report('UNREACHABLE_STATE', `${pointer}/States/${name}`, `State '${name}' is not reachable`);
      }
      let terminal = false;
      for (const s of compiled.values()) if (s.end || s.type === 'Succeed' || s.type === 'Fail') terminal = true;
      if (!terminal) this.report('MISSING_END_STATE', pointer, 'Workflow has no terminal state');
    }
    return typeof startAt === 'string' ? { startAt, states: compiled } : undefined;
  }

  private state(name: string, def: unknown, pointer: string, parentQl: QueryLanguage): CompiledState | undefined {
    if (name.length === 0 || name.length > 80)
      this.schema(pointer, `State name '${name}' must be 1 to 80 characters long`);
    if (!isObject(def)) {
      this.schema(pointer, `State '${name}' must be an object`);
      return undefined;
    }
    const type = def['Type'];
    if (typeof type !== 'string' || !(STATE_TYPES as readonly string[]).includes(type)) {
      this.schema(
        `${pointer}/Type`,
        `State '${name}' has an invalid Type: ${JSON.stringify(type)}; expected one of ${STATE_TYPES.join(', ')}`,
      );
      return undefined;
    }
    const stateType = type as StateType;
    let ql = parentQl;
    if ('QueryLanguage' in def) {
      const v = def['QueryLanguage'];
      if (v !== 'JSONPath' && v !== 'JSONata')
        this.schema(`${pointer}/QueryLanguage`, "QueryLanguage must be 'JSONPath' or 'JSONata'");
      else if (parentQl === 'JSONata' && v === 'JSONPath') {
        this.schema(
          `${pointer}/QueryLanguage`,
          "A state cannot use 'JSONPath' when the state machine's QueryLanguage is 'JSONata'",
        );
      } else ql = v;
    }
    const allowed = new Set(['Type', 'Comment', 'QueryLanguage', ...FIELDS[stateType]]);
    for (const key of Object.keys(def)) {
      if (!allowed.has(key))
        this.schema(`${pointer}/${key}`, `Field '${key}' is not supported by state type '${stateType}'`);
      else if (ql === 'JSONata' && JSONPATH_ONLY.includes(key)) {
        this.schema(
          `${pointer}/${key}`,
          `The field '${key}' is not supported with the JSONata query language; use Arguments, Output, Items and JSONata expressions`,
        );
      } else if (ql === 'JSONPath' && JSONATA_ONLY.includes(key)) {
        this.schema(`${pointer}/${key}`, `The field '${key}' is only supported with the JSONata query language`);
      }
    }

    // Transition
    let next: string | undefined;
    let end = false;
    if (stateType !== 'Choice' && stateType !== 'Succeed' && stateType !== 'Fail') {
      const n = def['Next'];
      const e = def['End'];
      if (n !== undefined && typeof n !== 'string') this.schema(`${pointer}/Next`, "'Next' must be a state name");
      if (e !== undefined && typeof e !== 'boolean') this.schema(`${pointer}/End`, "'End' must be a boolean");
      next = typeof n === 'string' ? n : undefined;
      end = e === true;
      if (next !== undefined && end) this.schema(pointer, `State '${name}' has both 'Next' and 'End'`);
      if (next === undefined && !end) this.schema(pointer, `State '${name}' must have either 'Next' or 'End': true`);
    }

    const usesContext =
      JSON.stringify(def).includes('$$') || (ql === 'JSONata' && JSON.stringify(def).includes('$states'));
    const common: StateCommon = {
      name,
      pointer,
      ql,
      next,
      end,
      inputPath: this.optionalPath(def, 'InputPath', pointer),
      outputPath: this.optionalPath(def, 'OutputPath', pointer),
      resultPath: this.resultPath(def['ResultPath'], `${pointer}/ResultPath`),
      parameters: this.pathTemplate(def, 'Parameters', pointer),
      resultSelector: this.pathTemplate(def, 'ResultSelector', pointer),
      assignPath:
        ql === 'JSONPath'
          ? (this.assign(def['Assign'], `${pointer}/Assign`, 'JSONPath') as PathTemplate | undefined)
          : undefined,
      args: ql === 'JSONata' ? this.ataTemplate(def, 'Arguments', pointer) : undefined,
      output: ql === 'JSONata' ? this.ataTemplate(def, 'Output', pointer) : undefined,
      assignAta:
        ql === 'JSONata'
          ? (this.assign(def['Assign'], `${pointer}/Assign`, 'JSONata') as AtaTemplate | undefined)
          : undefined,
      retry:
        stateType === 'Task' || stateType === 'Parallel' || stateType === 'Map'
          ? this.retriers(def['Retry'], `${pointer}/Retry`)
          : [],
      catch:
        stateType === 'Task' || stateType === 'Parallel' || stateType === 'Map'
          ? this.catchers(def['Catch'], `${pointer}/Catch`, ql)
          : [],
      usesContext,
    };

    switch (stateType) {
      case 'Pass':
        return { ...common, type: 'Pass', result: def['Result'] as JsonValue | undefined };
      case 'Succeed':
        return { ...common, type: 'Succeed' };
      case 'Task':
        return this.task(def, common);
      case 'Choice':
        return this.choice(def, common);
      case 'Wait':
        return this.wait(def, common);
      case 'Fail':
        return this.fail(def, common);
      case 'Parallel':
        return this.parallel(def, common);
      case 'Map':
        return this.map(def, common);
    }
  }

  private optionalPath(def: Record<string, unknown>, field: string, pointer: string): CompiledPath | null | undefined {
    if (!(field in def)) return undefined;
    const v = def[field];
    if (v === null) return null;
    if (typeof v !== 'string') {
      this.schema(`${pointer}/${field}`, `The value for the field '${field}' must be a valid JSONPath or null`);
      return undefined;
    }
    try {
      return compilePath(v);
    } catch (err) {
      this.schema(
        `${pointer}/${field}`,
        `The value for the field '${field}' must be a valid JSONPath: ${(err as Error).message}`,
      );
      return undefined;
    }
  }

  private resultPath(v: unknown, pointer: string): ResultPathSpec {
    if (v === undefined || v === '$') return { kind: 'replace' };
    if (v === null) return { kind: 'discard' };
    if (typeof v !== 'string') {
      this.schema(pointer, "The value for the field 'ResultPath' must be a valid Reference Path or null");
      return { kind: 'replace' };
    }
    try {
      const segments = compileReferencePath(v);
      return segments.length === 0 ? { kind: 'replace' } : { kind: 'set', text: v, segments };
    } catch (err) {
      this.schema(
        pointer,
        `The value for the field 'ResultPath' must be a valid Reference Path: ${(err as Error).message}`,
      );
      return { kind: 'replace' };
    }
  }

  private pathTemplate(def: Record<string, unknown>, field: string, pointer: string): PathTemplate | undefined {
    if (!(field in def)) return undefined;
    return this.pathTemplateOf(def[field], `${pointer}/${field}`, field);
  }

  private pathTemplateOf(value: unknown, pointer: string, field: string): PathTemplate | undefined {
    if (!isObject(value) && field !== 'Parameters') {
      this.schema(pointer, `The value for the field '${field}' must be an OBJECT`);
      return undefined;
    }
    try {
      return compilePathTemplate(value, pointer);
    } catch (err) {
      if (err instanceof TemplateError) this.schema(err.pointer, err.message);
      else throw err;
      return undefined;
    }
  }

  private ataTemplate(def: Record<string, unknown>, field: string, pointer: string): AtaTemplate | undefined {
    if (!(field in def)) return undefined;
    return this.ataTemplateOf(def[field], field, `${pointer}/${field}`);
  }

  private ataTemplateOf(value: unknown, location: string, pointer: string): AtaTemplate | undefined {
    try {
      return compileAtaTemplate(value, location, pointer);
    } catch (err) {
      if (err instanceof TemplateError) this.schema(err.pointer, err.message);
      else throw err;
      return undefined;
    }
  }

  private assign(value: unknown, pointer: string, ql: QueryLanguage): PathTemplate | AtaTemplate | undefined {
    if (value === undefined) return undefined;
    if (!isObject(value)) {
      this.schema(pointer, "The value for the field 'Assign' must be an OBJECT");
      return undefined;
    }
    for (const key of Object.keys(value)) {
      const name = ql === 'JSONPath' && key.endsWith('.$') ? key.slice(0, -2) : key;
      if (!VARIABLE_NAME.test(name)) {
        this.schema(
          `${pointer}/${key}`,
          `The variable name '${name}' is invalid: use a letter or '_' then letters, digits or '_', at most 80 characters`,
        );
      } else if (name === 'states') {
        this.schema(`${pointer}/${key}`, "The variable name 'states' is reserved");
      }
    }
    return ql === 'JSONPath'
      ? this.pathTemplateOf(value, pointer, 'Assign')
      : this.ataTemplateOf(value, 'Assign', pointer);
  }

  private errorEquals(v: unknown, pointer: string, index: number, count: number): readonly string[] {
    if (!Array.isArray(v) || v.length === 0 || !v.every((e) => typeof e === 'string')) {
      this.schema(pointer, "'ErrorEquals' must be a non-empty array of error names");
      return [];
    }
    const list = v as string[];
    if (list.includes('States.ALL')) {
      if (list.length !== 1) this.schema(pointer, "'States.ALL' must appear alone in 'ErrorEquals'");
      if (index !== count - 1) this.schema(pointer, "A Retrier or Catcher with 'States.ALL' must be the last one");
    }
    for (const e of list) {
      if (e.startsWith(RESERVED_ERROR_PREFIX) && !KNOWN_STATES_ERRORS.has(e)) {
        this.schema(pointer, `'${e}' is not a known States error name`);
      }
    }
    return list;
  }

  private retriers(v: unknown, pointer: string): Retrier[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.schema(pointer, "'Retry' must be an array");
      return [];
    }
    return v.map((r, i) => {
      const p = `${pointer}/${i}`;
      if (!isObject(r)) {
        this.schema(p, 'a Retrier must be an object');
        return {
          errorEquals: [],
          intervalSeconds: 1,
          maxAttempts: 0,
          backoffRate: 2,
          maxDelaySeconds: undefined,
          jitter: 'NONE' as const,
        };
      }
      const allowed = [
        'ErrorEquals',
        'IntervalSeconds',
        'MaxAttempts',
        'BackoffRate',
        'MaxDelaySeconds',
        'JitterStrategy',
        'Comment',
      ];
      for (const key of Object.keys(r))
        if (!allowed.includes(key)) this.schema(`${p}/${key}`, `Field '${key}' is not supported in a Retrier`);
      const int = (field: string, min: number, dflt: number | undefined): number | undefined => {
        const x = r[field];
        if (x === undefined) return dflt;
        if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > 99999999) {
          this.schema(`${p}/${field}`, `'${field}' must be an integer from ${min} to 99999999`);
          return dflt;
        }
        return x;
      };
      const backoff = r['BackoffRate'];
      if (backoff !== undefined && (typeof backoff !== 'number' || backoff < 1))
        this.schema(`${p}/BackoffRate`, "'BackoffRate' must be a number >= 1.0");
      const jitter = r['JitterStrategy'];
      if (jitter !== undefined && jitter !== 'FULL' && jitter !== 'NONE')
        this.schema(`${p}/JitterStrategy`, "'JitterStrategy' must be FULL or NONE");
      return {
        errorEquals: this.errorEquals(r['ErrorEquals'], `${p}/ErrorEquals`, i, v.length),
        intervalSeconds: int('IntervalSeconds', 1, 1) as number,
        maxAttempts: int('MaxAttempts', 0, 3) as number,
        backoffRate: typeof backoff === 'number' && backoff >= 1 ? backoff : 2,
        maxDelaySeconds: int('MaxDelaySeconds', 1, undefined),
        jitter: jitter === 'FULL' ? 'FULL' : 'NONE',
      };
    });
  }

  private catchers(v: unknown, pointer: string, ql: QueryLanguage): Catcher[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.schema(pointer, "'Catch' must be an array");
      return [];
    }
    return v.map((c, i) => {
      const p = `${pointer}/${i}`;
      if (!isObject(c)) {
        this.schema(p, 'a Catcher must be an object');
        return {
          errorEquals: [],
          next: '',
          resultPath: { kind: 'replace' },
          assignPath: undefined,
          assignAta: undefined,
          output: undefined,
        };
      }
      const allowed =
        ql === 'JSONPath'
          ? ['ErrorEquals', 'Next', 'ResultPath', 'Assign', 'Comment']
          : ['ErrorEquals', 'Next', 'Output', 'Assign', 'Comment'];
      for (const key of Object.keys(c))
        if (!allowed.includes(key)) this.schema(`${p}/${key}`, `Field '${key}' is not supported in a Catcher`);
      if (typeof c['Next'] !== 'string') this.schema(`${p}/Next`, 'These fields are required: [Next]');
      return {
        errorEquals: this.errorEquals(c['ErrorEquals'], `${p}/ErrorEquals`, i, v.length),
        next: typeof c['Next'] === 'string' ? c['Next'] : '',
        resultPath: this.resultPath(c['ResultPath'], `${p}/ResultPath`),
        assignPath:
          ql === 'JSONPath'
            ? (this.assign(c['Assign'], `${p}/Assign`, 'JSONPath') as PathTemplate | undefined)
            : undefined,
        assignAta:
          ql === 'JSONata'
            ? (this.assign(c['Assign'], `${p}/Assign`, 'JSONata') as AtaTemplate | undefined)
            : undefined,
        output:
          ql === 'JSONata' && 'Output' in c ? this.ataTemplateOf(c['Output'], 'Output', `${p}/Output`) : undefined,
      };
    });
  }

  /** A number field: `Field` (literal, or JSONata expression) or `FieldPath` (JSONPath). */
  private numberSpec(
    def: Record<string, unknown>,
    field: string,
    pointer: string,
    ql: QueryLanguage,
    opts: { min: number; integer: boolean; max?: number },
  ): NumberSpec | undefined {
    const pathField = `${field}Path`;
    const hasLiteral = field in def;
    const hasPath = pathField in def;
    if (hasLiteral && hasPath) {
      this.schema(pointer, `'${field}' and '${pathField}' cannot both be set`);
      return undefined;
    }
    if (hasLiteral) {
      const v = def[field];
      if (ql === 'JSONata' && isJsonataString(v)) {
        const t = this.ataTemplateOf(v, field, `${pointer}/${field}`);
        return t ? { kind: 'jsonata', template: t, field } : undefined;
      }
      if (
        typeof v !== 'number' ||
        (opts.integer && !Number.isInteger(v)) ||
        v < opts.min ||
        (opts.max !== undefined && v > opts.max)
      ) {
        this.schema(
          `${pointer}/${field}`,
          `'${field}' must be ${opts.integer ? 'an integer' : 'a number'} >= ${opts.min}${opts.max !== undefined ? ` and <= ${opts.max}` : ''}`,
        );
        return undefined;
      }
      return { kind: 'literal', value: v };
    }
    if (hasPath) {
      const v = def[pathField];
      try {
        if (typeof v !== 'string') throw new PathSyntaxError('must be a string');
        return { kind: 'path', path: compilePath(v), field: pathField };
      } catch (err) {
        this.schema(
          `${pointer}/${pathField}`,
          `The value for the field '${pathField}' must be a valid JSONPath: ${(err as Error).message}`,
        );
      }
    }
    return undefined;
  }

  private task(def: Record<string, unknown>, common: StateCommon): TaskState | undefined {
    const p = common.pointer;
    const resourceArn = def['Resource'];
    if (typeof resourceArn !== 'string') {
      this.schema(p, 'These fields are required: [Resource]');
      return undefined;
    }
    const resource = parseResource(resourceArn);
    if (!resource) {
      this.schema(
        `${p}/Resource`,
        `The resource provided ${resourceArn} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.`,
      );
      return undefined;
    }
    this.resources.push(resource);
    const timeout = this.numberSpec(def, 'TimeoutSeconds', p, common.ql, { min: 1, integer: true, max: 99999999 });
    const heartbeat = this.numberSpec(def, 'HeartbeatSeconds', p, common.ql, { min: 1, integer: true, max: 99999999 });
    if (timeout?.kind === 'literal' && heartbeat?.kind === 'literal' && heartbeat.value >= timeout.value) {
      this.schema(`${p}/HeartbeatSeconds`, "'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'");
    }
    return { ...common, type: 'Task', resource, timeout, heartbeat, credentials: def['Credentials'] };
  }

  private choice(def: Record<string, unknown>, common: StateCommon): ChoiceState | undefined {
    const p = common.pointer;
    const list = def['Choices'];
    if (!Array.isArray(list) || list.length === 0) {
      this.schema(`${p}/Choices`, "'Choices' must be a non-empty array");
      return undefined;
    }
    const choices: ChoiceRuleSpec[] = [];
    list.forEach((rule, i) => {
      const rp = `${p}/Choices/${i}`;
      if (!isObject(rule)) {
        this.schema(rp, 'a choice rule must be an object');
        return;
      }
      if (typeof rule['Next'] !== 'string') {
        this.schema(`${rp}/Next`, 'These fields are required: [Next]');
        return;
      }
      if (common.ql === 'JSONata') {
        for (const key of Object.keys(rule)) {
          if (!['Condition', 'Next', 'Comment', 'Assign', 'Output'].includes(key))
            this.schema(`${rp}/${key}`, `Field '${key}' is not supported in a JSONata choice rule`);
        }
        if (!('Condition' in rule)) {
          this.schema(rp, 'These fields are required: [Condition]');
          return;
        }
        const c = rule['Condition'];
        if (typeof c !== 'boolean' && !isJsonataString(c)) {
          this.schema(`${rp}/Condition`, "'Condition' must be a boolean or a JSONata expression {% ... %}");
          return;
        }
        choices.push({
          predicate: undefined,
          condition: this.ataTemplateOf(c, 'Condition', `${rp}/Condition`),
          next: rule['Next'],
          assignPath: undefined,
          assignAta: this.assign(rule['Assign'], `${rp}/Assign`, 'JSONata') as AtaTemplate | undefined,
          output: 'Output' in rule ? this.ataTemplateOf(rule['Output'], 'Output', `${rp}/Output`) : undefined,
        });
        return;
      }
      if ('Condition' in rule || 'Output' in rule)
        this.schema(rp, "'Condition' and 'Output' are only supported with JSONata");
      try {
        choices.push({
          predicate: compileChoiceRule(rule, rp, true),
          condition: undefined,
          next: rule['Next'],
          assignPath: this.assign(rule['Assign'], `${rp}/Assign`, 'JSONPath') as PathTemplate | undefined,
          assignAta: undefined,
          output: undefined,
        });
      } catch (err) {
        if (err instanceof TemplateError) this.schema(err.pointer, err.message);
        else throw err;
      }
    });
    const dflt = def['Default'];
    if (dflt !== undefined && typeof dflt !== 'string') this.schema(`${p}/Default`, "'Default' must be a state name");
    return { ...common, type: 'Choice', choices, default: typeof dflt === 'string' ? dflt : undefined };
  }

  private wait(def: Record<string, unknown>, common: StateCommon): WaitState | undefined {
    const p = common.pointer;
    const present = ['Seconds', 'Timestamp', 'SecondsPath', 'TimestampPath'].filter((k) => k in def);
    if (present.length !== 1) {
      this.schema(
        p,
        `A Wait state must have exactly one of Seconds, Timestamp, SecondsPath, TimestampPath (found ${present.length})`,
      );
      return undefined;
    }
    let timestamp: WaitState['timestamp'];
    if ('Timestamp' in def) {
      const v = def['Timestamp'];
      if (common.ql === 'JSONata' && isJsonataString(v)) {
        const t = this.ataTemplateOf(v, 'Timestamp', `${p}/Timestamp`);
        if (t) timestamp = { kind: 'jsonata', template: t };
      } else if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v)) {
        this.schema(
          `${p}/Timestamp`,
          "'Timestamp' must be an ISO-8601 extended offset date-time, e.g. 2016-03-14T01:59:00Z",
        );
      } else timestamp = { kind: 'literal', value: v };
    } else if ('TimestampPath' in def) {
      const path = this.optionalPath(def, 'TimestampPath', p);
      if (path) timestamp = { kind: 'path', path };
    }
    const seconds =
      'Seconds' in def || 'SecondsPath' in def
        ? this.numberSpec(def, 'Seconds', p, common.ql, { min: 0, integer: true, max: 99999999 })
        : undefined;
    return { ...common, type: 'Wait', seconds, timestamp };
  }

  private failField(
    def: Record<string, unknown>,
    field: 'Error' | 'Cause',
    common: StateCommon,
  ): FailField | undefined {
    const p = common.pointer;
    const pathField = `${field}Path`;
    if (field in def && pathField in def) {
      this.schema(p, `'${field}' and '${pathField}' cannot both be set`);
      return undefined;
    }
    if (field in def) {
      const v = def[field];
      if (typeof v !== 'string') {
        this.schema(`${p}/${field}`, `'${field}' must be a string`);
        return undefined;
      }
      if (common.ql === 'JSONata' && isJsonataString(v)) {
        const t = this.ataTemplateOf(v, field, `${p}/${field}`);
        return t ? { kind: 'jsonata', template: t } : undefined;
      }
      return { kind: 'literal', value: v };
    }
    if (pathField in def) {
      const v = def[pathField];
      try {
        return { kind: 'dynamic', value: compileDynamic(v as string, `${p}/${pathField}`), field: pathField };
      } catch (err) {
        if (err instanceof TemplateError) this.schema(err.pointer, err.message);
        else throw err;
      }
    }
    return undefined;
  }

  private fail(def: Record<string, unknown>, common: StateCommon): FailState {
    return {
      ...common,
      type: 'Fail',
      error: this.failField(def, 'Error', common),
      cause: this.failField(def, 'Cause', common),
    };
  }

  private parallel(def: Record<string, unknown>, common: StateCommon): ParallelState | undefined {
    const p = common.pointer;
    const list = def['Branches'];
    if (!Array.isArray(list) || list.length === 0) {
      this.schema(`${p}/Branches`, "'Branches' must be a non-empty array");
      return undefined;
    }
    const branches: CompiledScope[] = [];
    list.forEach((b, i) => {
      const scope = this.scope(b, `${p}/Branches/${i}`, common.ql, ['QueryLanguage']);
      if (scope) branches.push(scope);
    });
    return { ...common, type: 'Parallel', branches };
  }

  private map(def: Record<string, unknown>, common: StateCommon): MapState | undefined {
    const p = common.pointer;
    const processorField = 'ItemProcessor' in def ? 'ItemProcessor' : 'Iterator';
    if ('ItemProcessor' in def && 'Iterator' in def)
      this.schema(p, "'ItemProcessor' and 'Iterator' cannot both be set");
    const procDef = def[processorField];
    if (!isObject(procDef)) {
      this.schema(p, 'These fields are required: [ItemProcessor]');
      return undefined;
    }
    const config = procDef['ProcessorConfig'];
    let distributed = false;
    if (config !== undefined) {
      if (!isObject(config))
        this.schema(`${p}/${processorField}/ProcessorConfig`, "'ProcessorConfig' must be an object");
      else {
        const mode = config['Mode'];
        if (mode !== undefined && mode !== 'INLINE' && mode !== 'DISTRIBUTED')
          this.schema(`${p}/${processorField}/ProcessorConfig/Mode`, "'Mode' must be INLINE or DISTRIBUTED");
        distributed = mode === 'DISTRIBUTED';
        const et = config['ExecutionType'];
        if (distributed && et !== 'STANDARD' && et !== 'EXPRESS')
          this.schema(
            `${p}/${processorField}/ProcessorConfig/ExecutionType`,
            "A distributed Map needs 'ExecutionType' STANDARD or EXPRESS",
          );
      }
    }
    const processor = this.scope(procDef, `${p}/${processorField}`, common.ql, ['ProcessorConfig', 'QueryLanguage']);
    if (!distributed) {
      for (const f of [
        'ItemReader',
        'ItemBatcher',
        'ResultWriter',
        'ToleratedFailureCount',
        'ToleratedFailureCountPath',
        'ToleratedFailurePercentage',
        'ToleratedFailurePercentagePath',
        'Label',
      ]) {
        if (f in def) this.schema(`${p}/${f}`, `'${f}' is only supported by a Map in DISTRIBUTED mode`);
      }
    }
    if ('ItemReader' in def)
      this.schema(
        `${p}/ItemReader`,
        'ItemReader (reading items from S3) is not supported by the local engine; pass the items inline',
      );
    if ('ResultWriter' in def)
      this.schema(`${p}/ResultWriter`, 'ResultWriter (writing results to S3) is not supported by the local engine');
    if ('ItemSelector' in def && 'Parameters' in def)
      this.schema(p, "'ItemSelector' and 'Parameters' cannot both be set");

    let itemsPath: CompiledPath | undefined;
    if ('ItemsPath' in def) {
      const v = def['ItemsPath'];
      try {
        if (typeof v !== 'string') throw new PathSyntaxError('must be a string');
        itemsPath = compilePath(v);
      } catch (err) {
        this.schema(
          `${p}/ItemsPath`,
          `The value for the field 'ItemsPath' must be a valid JSONPath: ${(err as Error).message}`,
        );
      }
    }
    const items = common.ql === 'JSONata' ? this.ataTemplate(def, 'Items', p) : undefined;
    let itemSelector: PathTemplate | undefined;
    let itemSelectorAta: AtaTemplate | undefined;
    if (common.ql === 'JSONPath') {
      // Parameters is the legacy name of ItemSelector on a Map.
      if ('ItemSelector' in def)
        itemSelector = this.pathTemplateOf(def['ItemSelector'], `${p}/ItemSelector`, 'ItemSelector');
      else if ('Parameters' in def) itemSelector = common.parameters;
    } else if ('ItemSelector' in def)
      itemSelectorAta = this.ataTemplateOf(def['ItemSelector'], 'ItemSelector', `${p}/ItemSelector`);

    let batcher: MapState['batcher'];
    const b = def['ItemBatcher'];
    if (b !== undefined) {
      if (!isObject(b)) this.schema(`${p}/ItemBatcher`, "'ItemBatcher' must be an object");
      else {
        const bp = `${p}/ItemBatcher`;
        const maxItems = this.numberSpec(b, 'MaxItemsPerBatch', bp, common.ql, { min: 1, integer: true });
        const maxBytes = this.numberSpec(b, 'MaxInputBytesPerBatch', bp, common.ql, {
          min: 1,
          integer: true,
          max: 262144,
        });
        if (!maxItems && !maxBytes) this.schema(bp, "'ItemBatcher' needs MaxItemsPerBatch or MaxInputBytesPerBatch");
        batcher = {
          maxItems,
          maxBytes,
          batchInput:
            common.ql === 'JSONPath' && 'BatchInput' in b
              ? this.pathTemplateOf(b['BatchInput'], `${bp}/BatchInput`, 'BatchInput')
              : undefined,
          batchInputAta:
            common.ql === 'JSONata' && 'BatchInput' in b
              ? this.ataTemplateOf(b['BatchInput'], 'ItemBatcher/BatchInput', `${bp}/BatchInput`)
              : undefined,
        };
      }
    }
    const label = def['Label'];
    if (label !== undefined && (typeof label !== 'string' || label.length > 40))
      this.schema(`${p}/Label`, "'Label' must be a string of at most 40 characters");
    if (!processor) return undefined;
    return {
      ...common,
      // On a Map, Parameters selects each item; it is not applied to the Map's input.
      parameters: undefined,
      type: 'Map',
      processor,
      distributed,
      itemsPath,
      items,
      itemSelector,
      itemSelectorAta,
      maxConcurrency: this.numberSpec(def, 'MaxConcurrency', p, common.ql, { min: 0, integer: true }),
      toleratedFailureCount: this.numberSpec(def, 'ToleratedFailureCount', p, common.ql, { min: 0, integer: true }),
      toleratedFailurePercentage: this.numberSpec(def, 'ToleratedFailurePercentage', p, common.ql, {
        min: 0,
        integer: false,
        max: 100,
      }),
      batcher,
      label: typeof label === 'string' ? label : undefined,
    };
  }
}

const compiledCache = new WeakMap<object, CompiledStateMachine>();

/**
 * Validates and compiles a definition (an object, or its JSON text). Throws InvalidDefinitionError listing every
 * problem found. The same definition object compiles once.
 */
export function compileStateMachine(definition: StateMachineDefinition | string): CompiledStateMachine {
  let def: unknown = definition;
  if (typeof definition === 'string') {
    try {
      def = JSON.parse(definition);
    } catch (err) {
      throw new InvalidDefinitionError([
        {
          code: 'INVALID_JSON_DESCRIPTION',
          location: '',
          message: `The definition is not valid JSON: ${(err as Error).message}`,
        },
      ]);
    }
  } else if (isObject(definition)) {
    const hit = compiledCache.get(definition);
    if (hit) return hit;
  }
  const compiler = new Compiler();
  if (!isObject(def))
    throw new InvalidDefinitionError([
      { code: 'SCHEMA_VALIDATION_FAILED', location: '', message: 'The definition must be a JSON object' },
    ]);
  let ql: QueryLanguage = 'JSONPath';
  if ('QueryLanguage' in def) {
    if (def['QueryLanguage'] !== 'JSONPath' && def['QueryLanguage'] !== 'JSONata')
      compiler.schema('/QueryLanguage', "QueryLanguage must be 'JSONPath' or 'JSONata'");
    else ql = def['QueryLanguage'];
  }
  const timeout = def['TimeoutSeconds'];
  if (
    timeout !== undefined &&
    (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 99999999)
  ) {
    compiler.schema('/TimeoutSeconds', "'TimeoutSeconds' must be an integer from 1 to 99999999");
  }
  if (def['Version'] !== undefined && def['Version'] !== '1.0') compiler.schema('/Version', "'Version' must be '1.0'");
  const root = compiler.scope(def, '', ql, ['Version', 'TimeoutSeconds', 'QueryLanguage']);
  if (compiler.diagnostics.length > 0 || !root) throw new InvalidDefinitionError(compiler.diagnostics);
  const compiled: CompiledStateMachine = {
    definition: def as StateMachineDefinition,
    root,
    timeoutSeconds: typeof timeout === 'number' ? timeout : undefined,
    resources: compiler.resources,
  };
  if (typeof definition !== 'string') compiledCache.set(definition, compiled);
  return compiled;
}
