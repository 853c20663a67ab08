import type { ChoiceRule, ChoiceState } from '../compiled';
import { StatesError } from '../errors';
import { isPromise } from '../frame';
import type { Maybe, StateRun, Step } from '../state-run';
import type { JsonValue } from '../types';

/**
 * Choice: the first rule that matches picks the next state (with its own Assign, and Output in JSONata); else
 * the Default, else States.NoChoiceMatched.
 */
export function runChoice(s: ChoiceState, run: StateRun): Maybe<Step> {
  const effective = s.io.effectiveInput(run);
  const rule = s.io.choose(run, s, effective);
  if (isPromise<ChoiceRule | undefined>(rule)) return rule.then((r) => leave(r, s, run, effective));
  return leave(rule, s, run, effective);
}

function leave(rule: ChoiceRule | undefined, s: ChoiceState, run: StateRun, effective: JsonValue): Maybe<Step> {
  if (rule) return s.io.passOn(run, effective, rule.branch, rule.next);
  if (s.default === undefined) {
    throw new StatesError(
      'States.NoChoiceMatched',
      `No Matches! The choice state '${s.name}' matched no rule and has no Default.`,
    );
  }
  return s.io.passOn(run, effective, undefined, s.default);
}
