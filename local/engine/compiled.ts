import type { Branch, ChoiceCondition, StateIO } from './io/types';
import type { CompiledPath } from './jsonpath';
import type { ParsedResource } from './resources';
import type { AtaTemplate, DynamicValue } from './templates';
import type { JsonValue, QueryLanguage, StateMachineDefinition } from './types';

/**
 * What `compileStateMachine` makes of a definition: every state with its fields compiled once. A state carries
 * its input and output processing (`io`), made by its query language when the definition was loaded, so that
 * the code running the state never asks which language it is in.
 */

export const STATE_TYPES = ['Pass', 'Task', 'Choice', 'Wait', 'Succeed', 'Fail', 'Parallel', 'Map'] as const;
export type StateType = (typeof STATE_TYPES)[number];

/** A number field that is a literal, a JSONPath (`…Path`) or a JSONata expression. */
export type NumberSpec =
  | { readonly kind: 'literal'; readonly value: number }
  | { readonly kind: 'path'; readonly path: CompiledPath; readonly field: string }
  | { readonly kind: 'jsonata'; readonly template: AtaTemplate; readonly field: string };

/** A Wait state's Timestamp, TimestampPath or JSONata Timestamp. */
export type TimestampSpec =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'path'; readonly path: CompiledPath }
  | { readonly kind: 'jsonata'; readonly template: AtaTemplate };

/** A Fail state's Error or Cause: a literal, an `…Path` (path or intrinsic) or a JSONata expression. */
export type FailField =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'dynamic'; readonly value: DynamicValue; readonly field: string }
  | { readonly kind: 'jsonata'; readonly template: AtaTemplate };

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
  /** ResultPath and Assign (JSONPath), or Output and Assign (JSONata). */
  readonly branch: Branch;
}

export interface StateCommon {
  readonly name: string;
  readonly pointer: string;
  readonly ql: QueryLanguage;
  readonly next: string | undefined;
  readonly end: boolean;
  /** The state's input and output processing, in its query language. */
  readonly io: StateIO;
  readonly retry: readonly Retrier[];
  readonly catch: readonly Catcher[];
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

export interface ChoiceRule {
  readonly condition: ChoiceCondition;
  readonly next: string;
  /** The rule's Assign (and Output in JSONata). */
  readonly branch: Branch;
}

export interface ChoiceState extends StateCommon {
  readonly type: 'Choice';
  readonly choices: readonly ChoiceRule[];
  readonly default: string | undefined;
}

export interface WaitState extends StateCommon {
  readonly type: 'Wait';
  readonly seconds: NumberSpec | undefined;
  readonly timestamp: TimestampSpec | undefined;
}

export interface SucceedState extends StateCommon {
  readonly type: 'Succeed';
}

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
  readonly maxConcurrency: NumberSpec | undefined;
  readonly toleratedFailureCount: NumberSpec | undefined;
  readonly toleratedFailurePercentage: NumberSpec | undefined;
  /** ItemBatcher's limits (its BatchInput is part of `io`). */
  readonly batcher:
    | { readonly maxItems: NumberSpec | undefined; readonly maxBytes: NumberSpec | undefined }
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
