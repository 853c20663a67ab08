import { StatesError, TaskFailure } from './errors';
import { toJsonText, toJsonValue } from './json';
import type { ParsedResource } from './resources';
import type { PendingToken } from './tasks';
import type { JsonValue } from './types';

/**
 * A task attempt ran out of time: TimeoutSeconds, or HeartbeatSeconds without a heartbeat (`heartbeat`). Both are
 * States.Timeout, as AWS names them (docs/adr/0063).
 */
export class TimedOut {
  public readonly error = 'States.Timeout';
  public constructor(
    public readonly cause: string,
    public readonly heartbeat: boolean,
  ) {}
}

/** The engine's side of a task token: binds SendTask* calls to the task attempt waiting for them. */
export class TokenWaiter implements PendingToken {
  public executionArn = '';
  private onSuccess: ((v: unknown) => void) | undefined;
  private onFailure: ((e: unknown) => void) | undefined;
  private onHeartbeat: (() => void) | undefined;
  private early: { ok: boolean; value: unknown } | undefined;

  public bind(success: (v: unknown) => void, failure: (e: unknown) => void, heartbeat: () => void): void {
    this.onSuccess = success;
    this.onFailure = failure;
    this.onHeartbeat = heartbeat;
    if (this.early) (this.early.ok ? success : failure)(this.early.value);
  }

  public succeed(output: JsonValue): void {
    if (this.onSuccess) this.onSuccess(output);
    else this.early = { ok: true, value: output };
  }

  public fail(error: StatesError): void {
    if (this.onFailure) this.onFailure(error);
    else this.early = { ok: false, value: error };
  }

  public heartbeat(): void {
    this.onHeartbeat?.();
  }
}

export function taskError(err: unknown): StatesError {
  if (err instanceof StatesError) return err;
  if (err instanceof TaskFailure) return new StatesError(err.error, err.cause);
  if (err instanceof Error) {
    const named = err as Error & { errorType?: unknown; error?: unknown; cause?: unknown };
    const error = typeof named.errorType === 'string' ? named.errorType : err.name || 'Error';
    return new StatesError(error, err.message);
  }
  return new StatesError('States.TaskFailed', typeof err === 'string' ? err : toJsonText(toJsonValue(err)));
}

export function eventNames(r: ParsedResource): {
  scheduled: string;
  scheduledKey: string;
  succeeded: string;
  succeededKey: string;
  failed: string;
  failedKey: string;
  timedOut: string;
  timedOutKey: string;
} {
  const base = r.kind === 'lambda' ? 'LambdaFunction' : r.kind === 'activity' ? 'Activity' : 'Task';
  const key = r.kind === 'lambda' ? 'lambdaFunction' : r.kind === 'activity' ? 'activity' : 'task';
  return {
    scheduled: `${base}Scheduled`,
    scheduledKey: `${key}ScheduledEventDetails`,
    succeeded: `${base}Succeeded`,
    succeededKey: `${key}SucceededEventDetails`,
    failed: `${base}Failed`,
    failedKey: `${key}FailedEventDetails`,
    timedOut: `${base}TimedOut`,
    timedOutKey: `${key}TimedOutEventDetails`,
  };
}
