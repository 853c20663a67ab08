import type { Catcher, MapState, ParallelState, Retrier, TaskState } from './compiled';
import { StatesError } from './errors';
import { AbortReason } from './frame';
import type { StateRun, Step } from './state-run';
import type { JsonObject } from './types';

/**
 * Errors leaving a state, and what handles them: a state's failure becomes a StatesError (with AWS's prefix on
 * evaluation errors, and an EvaluationFailed event for JSONata's), then Task, Parallel and Map states retry it
 * under their Retry and hand it to their Catch.
 */

type Retryable = TaskState | ParallelState | MapState;

/**
 * Whether a Retrier's or Catcher's ErrorEquals matches an error, as the guide's "error names" define it:
 * States.ALL matches every (non-terminal) error; States.Timeout matches a Task past TimeoutSeconds and one that
 * missed its heartbeat (both are States.Timeout); States.HeartbeatTimeout only the latter; States.TaskFailed any
 * error but States.Timeout, so neither kind of timeout. Any other name matches itself (docs/adr/0063).
 */
export function matches(errorEquals: readonly string[], e: StatesError): boolean {
  for (const name of errorEquals) {
    if (name === e.error) return true;
    if (name === 'States.ALL') return true;
    if (name === 'States.HeartbeatTimeout' && e.heartbeatTimeout) return true;
    if (name === 'States.TaskFailed' && e.error !== 'States.Timeout') return true;
  }
  return false;
}

/** Turns what a state threw into the error that leaves it (with AWS's prefix on evaluation errors). */
export function stateError(run: StateRun, err: unknown): StatesError {
  if (err instanceof AbortReason) throw err;
  const prefix = `An error occurred while executing the state '${run.state.name}' (entered at the event id #${run.enteredId}).`;
  if (!(err instanceof StatesError))
    return new StatesError('States.Runtime', `${prefix} ${(err as Error)?.message ?? String(err)}`);
  if (!err.fromEvaluation) return err;
  const cause = `${prefix} ${err.cause ?? ''}`;
  if (err.location !== undefined) {
    const details = { cause, error: err.error, location: err.location, state: run.state.name };
    run.exec.emit(run.frame, 'EvaluationFailed', 'evaluationFailedEventDetails', details, run.enteredPrev);
  }
  return new StatesError(err.error, cause, { terminal: err.terminal });
}

/** Runs attempts of a Task, Parallel or Map state under its Retry, then its Catch. */
export async function withRetry<S extends Retryable>(
  s: S,
  run: StateRun,
  attemptOnce: (s: S, run: StateRun) => Promise<Step>,
): Promise<Step> {
  const counts = new Array<number>(s.retry.length).fill(0);
  for (;;) {
    let failure: StatesError;
    try {
      return await attempt(s, run, attemptOnce);
    } catch (err) {
      if (err instanceof AbortReason) {
        if (err.kind === 'cancel' && run.frame.record) run.exec.emit(run.frame, `${s.type}StateAborted`);
        throw err;
      }
      failure = stateError(run, err);
    }
    if (failure.terminal) throw failure;
    const i = s.retry.findIndex((r) => matches(r.errorEquals, failure));
    const retrier = i >= 0 ? (s.retry[i] as Retrier) : undefined;
    if (retrier && (counts[i] as number) < retrier.maxAttempts) {
      const delay = retryDelay(retrier, counts[i] as number);
      counts[i] = (counts[i] as number) + 1;
      run.retryCount++;
      await run.exec.config.clock.sleep(delay, run.frame.signal.signal);
      continue;
    }
    if (s.type !== 'Task') run.exec.emit(run.frame, `${s.type}StateFailed`);
    const catcher = s.catch.find((c) => matches(c.errorEquals, failure));
    if (!catcher) throw failure;
    return caught(s, run, catcher, failure);
  }
}

/** One attempt: a Parallel or Map forgets the children of the attempt before, a Task retires its token after. */
async function attempt<S extends Retryable>(
  s: S,
  run: StateRun,
  attemptOnce: (s: S, run: StateRun) => Promise<Step>,
): Promise<Step> {
  run.frame.children = undefined;
  try {
    return await attemptOnce(s, run);
  } finally {
    run.exec.retireToken(run.token);
    run.token = undefined;
  }
}

function retryDelay(r: Retrier, count: number): number {
  let seconds = r.intervalSeconds * r.backoffRate ** count;
  if (r.maxDelaySeconds !== undefined) seconds = Math.min(seconds, r.maxDelaySeconds);
  if (r.jitter === 'FULL') seconds = Math.random() * seconds;
  return Math.round(seconds * 1000);
}

async function caught(s: Retryable, run: StateRun, c: Catcher, e: StatesError): Promise<Step> {
  const errorOutput: JsonObject = { Error: e.error };
  if (e.cause !== undefined) errorOutput['Cause'] = e.cause;
  return s.io.caught(run, c.branch, errorOutput, c.next);
}
