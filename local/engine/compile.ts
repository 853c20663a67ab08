import {
  compileChoice,
  compileFail,
  compileMap,
  compileParallel,
  compileTask,
  compileWait,
  type ScopeCompiler,
} from './compile-states';
import {
  type Catcher,
  type CompiledScope,
  type CompiledState,
  type CompiledStateMachine,
  type Retrier,
  STATE_TYPES,
  type StateCommon,
  type StateType,
} from './compiled';
import { type DefinitionDiagnostic, InvalidDefinitionError } from './errors';
import { JSONATA } from './io/jsonata';
import { JSONPATH } from './io/jsonpath';
import { onlyFields } from './io/shared';
import type { Language } from './io/types';
import { isObject } from './json';
import type { ParsedResource } from './resources';
import type { JsonValue, QueryLanguage, StateMachineDefinition } from './types';

export type {
  Catcher,
  ChoiceRule,
  ChoiceState,
  CompiledScope,
  CompiledState,
  CompiledStateMachine,
  FailState,
  MapState,
  ParallelState,
  PassState,
  Retrier,
  SucceedState,
  TaskState,
  WaitState,
} from './compiled';

/**
 * Loads a definition: checks it as CreateStateMachine does (every problem reported with AWS's diagnostic code,
 * the field's JSON pointer and what is wrong) and compiles every path, intrinsic, template, JSONata expression
 * and choice rule once, so that executions only evaluate. Each state's query language is chosen here, once: the
 * `Language` compiles the fields that depend on it (`io/`), and the state carries what it made.
 */

const LANGUAGES: Record<QueryLanguage, Language> = { JSONPath: JSONPATH, JSONata: JSONATA };

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

class Compiler implements ScopeCompiler {
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
    const lang = LANGUAGES[this.queryLanguage(def, pointer, parentQl)];
    const allowed = new Set(['Type', 'Comment', 'QueryLanguage', ...FIELDS[stateType]]);
    for (const key of Object.keys(def)) {
      if (!allowed.has(key))
        this.schema(`${pointer}/${key}`, `Field '${key}' is not supported by state type '${stateType}'`);
      else {
        const foreign = lang.foreignField(key);
        if (foreign) this.schema(`${pointer}/${key}`, foreign);
      }
    }
    const common = this.common(name, def, pointer, stateType, lang);
    switch (stateType) {
      case 'Pass':
        return { ...common, type: 'Pass', result: def['Result'] as JsonValue | undefined };
      case 'Succeed':
        return { ...common, type: 'Succeed' };
      case 'Task':
        return compileTask(this, lang, def, common);
      case 'Choice':
        return compileChoice(this, lang, def, common);
      case 'Wait':
        return compileWait(this, lang, def, common);
      case 'Fail':
        return compileFail(this, lang, def, common);
      case 'Parallel':
        return compileParallel(this, def, common);
      case 'Map':
        return compileMap(this, lang, def, common);
    }
  }

  /** The state's QueryLanguage, or its parent's. A JSONata machine may not hold JSONPath states. */
  private queryLanguage(def: Record<string, unknown>, pointer: string, parentQl: QueryLanguage): QueryLanguage {
    if (!('QueryLanguage' in def)) return parentQl;
    const v = def['QueryLanguage'];
    if (v !== 'JSONPath' && v !== 'JSONata') {
      this.schema(`${pointer}/QueryLanguage`, "QueryLanguage must be 'JSONPath' or 'JSONata'");
      return parentQl;
    }
    if (parentQl === 'JSONata' && v === 'JSONPath') {
      this.schema(
        `${pointer}/QueryLanguage`,
        "A state cannot use 'JSONPath' when the state machine's QueryLanguage is 'JSONata'",
      );
      return parentQl;
    }
    return v;
  }

  /** The fields every state has: its transition, its input and output processing, its Retry and Catch. */
  private common(
    name: string,
    def: Record<string, unknown>,
    pointer: string,
    stateType: StateType,
    lang: Language,
  ): StateCommon {
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
    const retryable = stateType === 'Task' || stateType === 'Parallel' || stateType === 'Map';
    return {
      name,
      pointer,
      ql: lang.name,
      next,
      end,
      io: lang.io(def, pointer, stateType, this),
      retry: retryable ? this.retriers(def['Retry'], `${pointer}/Retry`) : [],
      catch: retryable ? this.catchers(def['Catch'], `${pointer}/Catch`, lang) : [],
    };
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
    return v.map((r, i) => this.retrier(r, `${pointer}/${i}`, i, v.length));
  }

  private retrier(r: unknown, p: string, i: number, count: number): Retrier {
    if (!isObject(r)) {
      this.schema(p, 'a Retrier must be an object');
      return {
        errorEquals: [],
        intervalSeconds: 1,
        maxAttempts: 0,
        backoffRate: 2,
        maxDelaySeconds: undefined,
        jitter: 'NONE',
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
    onlyFields(r, allowed, p, 'a Retrier', this);
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
      errorEquals: this.errorEquals(r['ErrorEquals'], `${p}/ErrorEquals`, i, count),
      intervalSeconds: int('IntervalSeconds', 1, 1) as number,
      maxAttempts: int('MaxAttempts', 0, 3) as number,
      backoffRate: typeof backoff === 'number' && backoff >= 1 ? backoff : 2,
      maxDelaySeconds: int('MaxDelaySeconds', 1, undefined),
      jitter: jitter === 'FULL' ? 'FULL' : 'NONE',
    };
  }

  private catchers(v: unknown, pointer: string, lang: Language): Catcher[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.schema(pointer, "'Catch' must be an array");
      return [];
    }
    return v.map((c, i) => {
      const p = `${pointer}/${i}`;
      if (!isObject(c)) {
        this.schema(p, 'a Catcher must be an object');
        return { errorEquals: [], next: '', branch: lang.catcher({}, p, this) };
      }
      if (typeof c['Next'] !== 'string') this.schema(`${p}/Next`, 'These fields are required: [Next]');
      return {
        errorEquals: this.errorEquals(c['ErrorEquals'], `${p}/ErrorEquals`, i, v.length),
        next: typeof c['Next'] === 'string' ? c['Next'] : '',
        branch: lang.catcher(c, p, this),
      };
    });
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
