import type { CompiledState } from './compiled';
import { StatesError } from './errors';
import type { ExecutionConfig } from './execution';
import { type ChildrenCheckpoint, type Frame, isPromise, type ScopeCheckpoint } from './frame';
import { exceedsPayloadLimit } from './json';
import type { TokenWaiter } from './task-support';
import type { JsonObject, JsonValue } from './types';

/**
 * The small context that state handlers and input/output processing run over: a state in progress
 * (`StateRun`), the execution around it (`ExecutionContext`), and what a state hands back (`Step`).
 */

/** A value now, or later: JSONPath processing stays synchronous, JSONata's is asynchronous. */
export type Maybe<T> = T | Promise<T>;

/**
 * Applies `next` to a value now if it is one, else when the promise settles (no promise where no wait is). `next`
 * gets its state and run as arguments, so that a module-level function serves and nothing is allocated on the
 * synchronous path.
 */
export function andThen<T, S, U>(
  value: Maybe<T>,
  next: (value: T, state: S, run: StateRun) => Maybe<U>,
  state: S,
  run: StateRun,
): Maybe<U> {
  return isPromise<T>(value) ? value.then((v) => next(v, state, run)) : next(value, state, run);
}

/** What a state hands back: its output, the variables it assigns, and the next state (none at an end). */
export interface Step {
  readonly output: JsonValue;
  readonly assigned: JsonObject | undefined;
  readonly next: string | undefined;
}

/** What a state's code may ask of its execution. */
export interface ExecutionContext {
  readonly config: ExecutionConfig;
  /** Records an event on the frame's thread; returns its id (0 when the frame records nothing). */
  emit(
    frame: Frame,
    type: string,
    detailsKey?: string,
    details?: Record<string, unknown>,
    previous?: number,
    lazyKey?: string,
    lazyValue?: unknown,
  ): number;
  /** The context object (`$$`, `$states.context`) of a state in progress; `mapItem` for an ItemSelector. */
  contextObject(run: StateRun, mapItem?: JsonObject): JsonObject;
  /** Runs a scope's states (a Parallel branch, a Map iteration) to their end. */
  runScope(frame: Frame, input: JsonValue): Maybe<JsonValue>;
  /** Where a frame stopped, for a redrive. */
  checkpointOf(frame: Frame): ScopeCheckpoint | undefined;
  /** Issues a task token for the state in progress (`$$.Task.Token`). */
  issueToken(run: StateRun): { readonly token: string; readonly waiter: TokenWaiter };
  retireToken(token: string | undefined): void;
}

/** A state in progress. */
export interface StateRun {
  readonly state: CompiledState;
  readonly frame: Frame;
  readonly input: JsonValue;
  readonly exec: ExecutionContext;
  readonly enteredId: number;
  readonly enteredPrev: number;
  readonly enteredTime: number;
  retryCount: number;
  token: string | undefined;
  /** Redrive of a Parallel or Map state: the children that already succeeded and where the others stopped. */
  resumeChildren: ChildrenCheckpoint | undefined;
  /** A Wait continued after its execution was interrupted: when it was first entered (its Seconds count from there). */
  readonly waitSince: number | undefined;
}

/** AWS refuses an effective input (after Parameters or Arguments) over the payload quota: terminal. */
export function checkArgumentsSize(value: JsonValue, stateName: string): void {
  if (exceedsPayloadLimit(value)) {
    throw new StatesError(
      'States.DataLimitExceeded',
      `The input of the state '${stateName}' after its Parameters or Arguments exceeds the maximum number of bytes service limit.`,
      { terminal: true },
    );
  }
}
