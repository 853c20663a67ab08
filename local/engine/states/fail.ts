import type { FailState } from '../compiled';
import { StatesError } from '../errors';
import type { Failure } from '../io/types';
import { andThen, type Maybe, type StateRun, type Step } from '../state-run';

/** Fail: ends its scope with its Error and Cause (literals, `…Path` or JSONata), which a Catch may take. */
export function runFail(s: FailState, run: StateRun): Maybe<Step> {
  return andThen(s.io.failure(run, s), fail, s, run);
}

function fail(failure: Failure): never {
  throw new StatesError(failure.error as string, failure.cause);
}
