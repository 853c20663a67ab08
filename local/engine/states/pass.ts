import type { PassState } from '../compiled';
import { andThen, type Maybe, type StateRun, type Step } from '../state-run';
import type { JsonValue } from '../types';

/**
 * Pass: its Result, or its input after InputPath and Parameters, leaves through ResultPath and OutputPath
 * (JSONata: Output, by default the input).
 */
export function runPass(s: PassState, run: StateRun): Maybe<Step> {
  return andThen(s.io.arguments(run, s.io.effectiveInput(run)), leave, s, run);
}

function leave(args: JsonValue, s: PassState, run: StateRun): Maybe<Step> {
  return s.io.afterResult(run, s.result !== undefined ? s.result : args, s.next);
}
