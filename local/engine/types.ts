/** A JSON value, as state input and output carry them. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export type QueryLanguage = 'JSONPath' | 'JSONata';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** Which clock an execution runs on: `real` sleeps; `virtual` jumps over every wait at once. */
export type ClockMode = 'real' | 'virtual';

/**
 * One event of an execution's history, in the shape of GetExecutionHistory: `id`, `previousEventId`,
 * `timestamp`, `type`, and one `…EventDetails` member named after the type (absent for types that carry none,
 * such as `ParallelStateStarted`). Inputs and outputs inside the details are JSON text, as AWS returns them.
 */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: Date;
  readonly type: string;
  readonly [details: string]: unknown;
}

/** The terminal (or current) result of an execution. */
export interface ExecutionResult {
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  /** The output as a JSON value, when the execution succeeded. */
  readonly output?: JsonValue;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly history: readonly HistoryEvent[];
}

/** An Amazon States Language document. Validated by the engine; typed loosely here on purpose. */
export interface StateMachineDefinition {
  readonly StartAt: string;
  readonly States: Record<string, Record<string, unknown>>;
  readonly Comment?: string;
  readonly Version?: string;
  readonly TimeoutSeconds?: number;
  readonly QueryLanguage?: QueryLanguage;
  readonly [field: string]: unknown;
}
