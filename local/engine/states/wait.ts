import type { WaitState } from '../compiled';
import { isPromise } from '../frame';
import type { StateRun, Step } from '../state-run';

/**
 * Wait: sleeps on the execution's clock for Seconds, or until Timestamp, then passes its input on. A Wait continued
 * after its execution was interrupted (`waitSince`) ends Seconds after it was first entered, at once if that has
 * passed (ADR 0115).
 */
export async function runWait(s: WaitState, run: StateRun): Promise<Step> {
  const { io } = s;
  const effective = io.effectiveInput(run);
  const pending = io.waitMillis(run, s, effective);
  const clock = run.exec.config.clock;
  let ms = isPromise<number>(pending) ? await pending : pending;
  if (run.waitSince !== undefined && s.seconds) ms = Math.max(0, run.waitSince + ms - clock.now());
  if (ms > 0 || clock.mode === 'virtual') await clock.sleep(ms, run.frame.signal.signal);
  return io.passOn(run, effective, undefined, s.next);
}
