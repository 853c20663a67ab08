import type { WaitState } from '../compiled';
import { isPromise } from '../frame';
import type { StateRun, Step } from '../state-run';

/** Wait: sleeps on the execution's clock for Seconds, or until Timestamp, then passes its input on. */
export async function runWait(s: WaitState, run: StateRun): Promise<Step> {
  const { io } = s;
  const effective = io.effectiveInput(run);
  const pending = io.waitMillis(run, s, effective);
  const ms = isPromise<number>(pending) ? await pending : pending;
  const clock = run.exec.config.clock;
  if (ms > 0 || clock.mode === 'virtual') await clock.sleep(ms, run.frame.signal.signal);
  return io.passOn(run, effective, undefined, s.next);
}
