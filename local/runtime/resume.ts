import type { Runtime } from './options';
import { LOCAL_RESOURCES } from './pipeline';
import type { InvokeLater } from './services';
import type { Cleanups } from './shutdown';

/**
 * What a start recovers from the previous run, and what keeps running after it: builds that were running end
 * (the local CodeBuild's `recover`), executions that were running resume from their recorded history (or end FAILED
 * when `resume` is off; checkpoint.ts, ADR 0053) on their own time: from their last recorded event, a Wait they stood
 * in ending at the end it had (ADR 0115), parked deliveries are replayed; then the periodic replay of parked
 * deliveries and the approval keeper's heartbeat (ADR 0036).
 */

/** What recovery found, filled in as it goes (the object `runtime.recovered` shows). */
export type Recovered = { -readonly [K in keyof Runtime['recovered']]: Runtime['recovered'][K] };

/** Fills `recovered` and logs what it did. */
export async function recoverPrevious(
  runtime: Runtime,
  recovered: Recovered,
  options: { readonly resume: boolean; readonly log: (line: string) => void },
): Promise<void> {
  const { log } = options;
  recovered.builds = await runtime.codebuild.recover();
  const outcome = runtime.states.recover({ resume: options.resume });
  recovered.resumed = outcome.resumed;
  recovered.failed = outcome.failed;
  for (const arn of outcome.resumed) log(`resumed ${arn} where it stopped`);
  for (const arn of outcome.failed) log(`ended ${arn} FAILED: it was running when the runtime stopped`);
  if (runtime.pipelineLoaded && runtime.stores.parking.stats().parked > 0) {
    recovered.replayed = await runtime.replay();
    log(
      `replayed parked deliveries: ${recovered.replayed.started} started, ${recovered.replayed.duplicate} already started, ${recovered.replayed.failed} still parked`,
    );
  }
}

/**
 * Every `replayEveryMs` (default 60,000), the parked deliveries again; every `keeperEveryMs`, the approval keeper
 * (0 turns either off).
 */
export function keepGoing(
  runtime: Runtime,
  options: {
    readonly replayEveryMs: number | undefined;
    readonly keeperEveryMs: number;
    readonly invokeLater: InvokeLater;
    readonly cleanups: Cleanups;
  },
): void {
  const every = (ms: number, tick: () => void): void => {
    if (ms <= 0) return;
    const timer = setInterval(tick, ms);
    timer.unref();
    options.cleanups.add(() => clearInterval(timer));
  };
  every(options.replayEveryMs ?? 60_000, () => {
    if (runtime.pipelineLoaded && runtime.stores.parking.stats().parked > 0) void runtime.replay().catch(() => {});
  });
  every(options.keeperEveryMs, () => {
    options.invokeLater('approval-keeper', LOCAL_RESOURCES.functions.approvalKeeper, {
      source: 'stepline.local',
      'detail-type': 'Scheduled Event',
      detail: {},
    });
  });
}
