import type {
  ChoiceRule,
  ChoiceState,
  FailField,
  FailState,
  MapState,
  NumberSpec,
  StateType,
  TimestampSpec,
  WaitState,
} from '../compiled';
import type { Maybe, StateRun, Step } from '../state-run';
import type { JsonObject, JsonValue, QueryLanguage } from '../types';

/**
 * Input and output processing, one implementation per query language (`jsonpath.ts`, `jsonata.ts`). The
 * compiler picks a state's language once and asks it for the state's `StateIO`; the state handlers call that and
 * never ask which language they are in.
 *
 * JSONPath processing answers synchronously (a state that does not wait runs without a promise); JSONata's
 * answers are promises.
 */
export interface StateIO {
  readonly language: QueryLanguage;
  /** InputPath applied to the state's input; a JSONata state sees its whole input. */
  effectiveInput(run: StateRun): JsonValue;
  /** Parameters (JSONPath) or Arguments (JSONata); the effective input when the state has neither. */
  arguments(run: StateRun, effective: JsonValue): Maybe<JsonValue>;
  /**
   * What leaves a state that produced a result (Task, Parallel, Map, and Pass with its Result): ResultSelector,
   * Assign, ResultPath and OutputPath, or Output and Assign with `$states.result`.
   */
  afterResult(run: StateRun, result: JsonValue, next: string | undefined): Maybe<Step>;
  /**
   * What leaves a state that passes its input on (Choice, Wait, Succeed): OutputPath over the effective input, or
   * Output over `$states.input`; the Assign of `branch` (a Choice rule) or else of the state.
   */
  passOn(run: StateRun, effective: JsonValue, branch: Branch | undefined, next: string | undefined): Maybe<Step>;
  /** What leaves a state whose Catcher took an error: its ResultPath and Assign, or its Output and Assign. */
  caught(run: StateRun, branch: Branch, errorOutput: JsonObject, next: string): Maybe<Step>;
  /** A number field (TimeoutSeconds, MaxConcurrency, ...); `doc` is what a `…Path` reads. */
  number(
    run: StateRun,
    spec: NumberSpec | undefined,
    doc: JsonValue,
    kind: 'integer' | 'float',
    min: number,
  ): Maybe<number | undefined>;
  /** How long a Wait state waits, in milliseconds. */
  waitMillis(run: StateRun, state: WaitState, effective: JsonValue): Maybe<number>;
  /** The first Choice rule that matches, if any. */
  choose(run: StateRun, state: ChoiceState, effective: JsonValue): Maybe<ChoiceRule | undefined>;
  /** A Fail state's Error and Cause. */
  failure(
    run: StateRun,
    state: FailState,
  ): Maybe<{ readonly error: string | undefined; readonly cause: string | undefined }>;
  /** A Map state's items (ItemsPath or Items). */
  items(run: StateRun, state: MapState, effective: JsonValue): Maybe<JsonValue[]>;
  /** Each iteration's input: the item, or what ItemSelector makes of it. */
  itemInputs(run: StateRun, effective: JsonValue, items: readonly JsonValue[]): Maybe<JsonValue[]>;
  /** ItemBatcher's BatchInput, when the state has one. */
  batchInput(run: StateRun, effective: JsonValue): Maybe<JsonValue | undefined>;
}

/** A Fail state's Error and Cause, evaluated. */
export interface Failure {
  readonly error: string | undefined;
  readonly cause: string | undefined;
}

/** A branch of a state (a Choice rule, a Catcher): its Assign, and its ResultPath or Output. Read by its language. */
export interface Branch {
  readonly language: QueryLanguage;
}

/** A Choice rule's test (comparison operators, or a JSONata Condition). Read by its language. */
export interface ChoiceCondition {
  readonly language: QueryLanguage;
}

/** Where the compiler reports what is wrong with a definition. */
export interface Diagnostics {
  schema(location: string, message: string): void;
  report(code: string, location: string, message: string): void;
}

export interface NumberLimits {
  readonly min: number;
  readonly integer: boolean;
  readonly max?: number;
}

/** A query language as the compiler sees it: what it compiles, and the fields only the other language has. */
export interface Language {
  readonly name: QueryLanguage;
  /** What a definition is told when a state in this language uses `field`; undefined when the field is fine. */
  foreignField(field: string): string | undefined;
  /** The state's input and output processing. */
  io(def: Record<string, unknown>, pointer: string, type: StateType, diag: Diagnostics): StateIO;
  /** A number field: `Field` (a literal, or an expression) or `FieldPath`. */
  number(
    def: Record<string, unknown>,
    field: string,
    pointer: string,
    limits: NumberLimits,
    diag: Diagnostics,
  ): NumberSpec | undefined;
  /** A Wait state's Timestamp or TimestampPath (one of them is present). */
  timestamp(def: Record<string, unknown>, pointer: string, diag: Diagnostics): TimestampSpec | undefined;
  /** A Fail state's Error/ErrorPath or Cause/CausePath. */
  failField(
    def: Record<string, unknown>,
    field: 'Error' | 'Cause',
    pointer: string,
    diag: Diagnostics,
  ): FailField | undefined;
  /** A Choice rule's test and branch (undefined when the rule is invalid). */
  choiceRule(
    rule: Record<string, unknown>,
    pointer: string,
    diag: Diagnostics,
  ): { readonly condition: ChoiceCondition; readonly branch: Branch } | undefined;
  /** A Catcher's branch, with the fields a Catcher may have in this language. */
  catcher(def: Record<string, unknown>, pointer: string, diag: Diagnostics): Branch;
}
