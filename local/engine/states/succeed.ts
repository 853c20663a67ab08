import type { SucceedState } from '../compiled';
import type { Maybe, StateRun, Step } from '../state-run';

/** Succeed: ends its scope with its input, after InputPath and OutputPath (JSONata: Output). */
export function runSucceed(s: SucceedState, run: StateRun): Maybe<Step> {
  return s.io.passOn(run, s.io.effectiveInput(run), undefined, undefined);
}
