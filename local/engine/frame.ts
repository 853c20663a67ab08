import type { CancelScope } from './cancel';
import type { CompiledScope } from './compiled';
import type { HistoryEvent, JsonObject, JsonValue } from './types';
import type { VariableScope } from './variables';

// The pieces an execution is made of: frames (scopes that run states), checkpoints, abort reasons.

/** Why an execution, a branch or a task was cut short. */
export class AbortReason {
  public constructor(
    public readonly kind: 'stop' | 'timeout' | 'cancel',
    public readonly error?: string,
    public readonly cause?: string,
  ) {}
}

/** Where a scope was when it failed: what a redrive restarts from. */
export interface ScopeCheckpoint {
  readonly stateName: string;
  readonly input: JsonValue;
  readonly variables: Readonly<JsonObject>;
  /** For a Parallel or Map state that failed: the results of its children, and where each failed one stopped. */
  readonly children?: ChildrenCheckpoint;
}

export interface ChildrenCheckpoint {
  readonly results: ReadonlyMap<number, JsonValue>;
  readonly failed: ReadonlyMap<number, ScopeCheckpoint>;
}

export interface RedriveSource {
  readonly checkpoint: ScopeCheckpoint;
  readonly history: readonly HistoryEvent[];
  readonly redriveCount: number;
  readonly startDate: Date;
}

export interface Thread {
  last: number;
}

/** A scope running states: the machine, a Parallel branch or a Map iteration. */
export interface Frame {
  readonly scope: CompiledScope;
  readonly vars: VariableScope;
  readonly thread: Thread;
  readonly signal: CancelScope;
  readonly mapItem: JsonObject | undefined;
  /** False for the child workflows of a distributed Map, whose events are not the parent's history. */
  readonly record: boolean;
  /** Set while a state runs: its name, input and the variables it started with (for redrive). */
  currentName: string | undefined;
  currentInput: JsonValue;
  currentVars: Readonly<JsonObject> | undefined;
  /** Set by a Parallel or Map state that fails: the state of its children. */
  children: ChildrenCheckpoint | undefined;
  /** Redrive: the checkpoint this scope resumes from (consumed by the first state it runs). */
  resume: ScopeCheckpoint | undefined;
}

/** A frame that has not run a state yet. */
export function newFrame(
  scope: CompiledScope,
  vars: VariableScope,
  last: number,
  signal: CancelScope,
  mapItem: JsonObject | undefined,
  record: boolean,
  resume: ScopeCheckpoint | undefined,
): Frame {
  return {
    scope,
    vars,
    thread: { last },
    signal,
    mapItem,
    record,
    currentName: undefined,
    currentInput: null,
    currentVars: undefined,
    children: undefined,
    resume,
  };
}

export function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof v === 'object' && v !== null && typeof (v as Promise<T>).then === 'function';
}
