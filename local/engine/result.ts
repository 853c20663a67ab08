import type { HistoryRecorder } from './history';
import type { ExecutionResult, ExecutionStatus, HistoryEvent, JsonValue } from './types';

/** What a result is made from. */
export interface Finished {
  readonly executionArn: string;
  readonly status: ExecutionStatus;
  readonly startDate: Date;
  readonly stopDate: Date | undefined;
  readonly output: JsonValue | undefined;
  readonly error: string | undefined;
  readonly cause: string | undefined;
  readonly history: HistoryRecorder;
}

/**
 * An execution's result. The history is a getter on the prototype (not an own accessor: one per object would
 * give every result a hidden class of its own): its JSON text is written when someone reads it. `toJSON` keeps
 * it in `JSON.stringify`.
 */
export class ResultOf implements ExecutionResult {
  public readonly executionArn: string;
  public readonly status: ExecutionStatus;
  public readonly startDate: Date;
  public readonly stopDate?: Date;
  public readonly output?: JsonValue;
  public readonly error?: string;
  public readonly cause?: string;
  readonly #recorder: HistoryRecorder;
  #events: readonly HistoryEvent[] | undefined;

  public constructor(e: Finished) {
    this.executionArn = e.executionArn;
    this.status = e.status;
    this.startDate = e.startDate;
    if (e.stopDate) this.stopDate = e.stopDate;
    if (e.status === 'SUCCEEDED') this.output = e.output as JsonValue;
    if (e.error !== undefined) this.error = e.error;
    if (e.cause !== undefined) this.cause = e.cause;
    this.#recorder = e.history;
  }

  public get history(): readonly HistoryEvent[] {
    this.#events ??= this.#recorder.events;
    return this.#events;
  }

  public toJSON(): Record<string, unknown> {
    return { ...(this as object), history: this.history };
  }
}
