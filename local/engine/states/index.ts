import { withRetry } from '../retry';
import type { Maybe, StateRun, Step } from '../state-run';
import { runChoice } from './choice';
import { runFail } from './fail';
import { attemptMap } from './map';
import { attemptParallel } from './parallel';
import { runPass } from './pass';
import { runSucceed } from './succeed';
import { attemptTask } from './task';
import { runWait } from './wait';

/** Runs the state of `run` by its type: what it hands back, or the error it throws. */
export function runStateHandler(run: StateRun): Maybe<Step> {
  const s = run.state;
  switch (s.type) {
    case 'Pass':
      return runPass(s, run);
    case 'Choice':
      return runChoice(s, run);
    case 'Succeed':
      return runSucceed(s, run);
    case 'Fail':
      return runFail(s, run);
    case 'Wait':
      return runWait(s, run);
    case 'Task':
      return withRetry(s, run, attemptTask);
    case 'Parallel':
      return withRetry(s, run, attemptParallel);
    case 'Map':
      return withRetry(s, run, attemptMap);
  }
}
