import type { MapState } from '../compiled';
import { runtimeError } from '../errors';
import { type ChildrenCheckpoint, isPromise } from '../frame';
import type { Maybe, StateRun, Step } from '../state-run';
import type { JsonValue } from '../types';
import { batchItems, distributedResult, type Tolerance, tolerance } from './map-distributed';
import { MapRun } from './map-run';

/**
 * Map: one attempt (Retry calls it again). Each item (after ItemSelector, and ItemBatcher in a distributed Map)
 * runs the ItemProcessor's states; the result is the array of their outputs, in order. An inline Map fails with
 * its first failed iteration; a distributed one tolerates failures up to its thresholds (`map-distributed.ts`).
 */
export async function attemptMap(s: MapState, run: StateRun): Promise<Step> {
  const { io } = s;
  const { exec } = run;
  const effective = io.effectiveInput(run);
  const list = await settle(io.items(run, s, effective));
  const maxConcurrency = await settle(io.number(run, s.maxConcurrency, effective, 'integer', 0));
  if (maxConcurrency !== undefined && maxConcurrency < 0)
    throw runtimeError(`MaxConcurrency must be a non-negative integer, got ${maxConcurrency}`);
  exec.emit(run.frame, 'MapStateStarted', 'mapStateStartedEventDetails', { length: list.length });

  const limits: Tolerance | undefined = s.distributed ? await tolerance(s, run, effective) : undefined;
  const selected = await settle(io.itemInputs(run, effective, list));
  const units = s.batcher ? await batchItems(s, run, effective, selected) : selected;

  let mapRunArn: string | undefined;
  if (s.distributed) {
    const config = exec.config;
    mapRunArn = `${config.stateMachineArn.replace(':stateMachine:', ':mapRun:')}/${s.label ?? s.name}:${config.name}-${run.enteredId}`;
    exec.emit(run.frame, 'MapRunStarted', 'mapRunStartedEventDetails', { mapRunArn });
  }
  const resume = run.resumeChildren;
  run.resumeChildren = undefined;
  const outcome = await iterate(s, run, units, maxConcurrency ?? 0, resume);
  let result: JsonValue[] = outcome.results;
  if (limits) result = distributedResult(run, outcome, units.length, limits);
  else if (outcome.firstError !== undefined) {
    run.frame.children = { results: outcome.done, failed: outcome.failedAt };
    throw outcome.firstError;
  }
  exec.emit(run.frame, 'MapStateSucceeded');
  return io.afterResult(run, result, s.next);
}

async function settle<T>(value: Maybe<T>): Promise<T> {
  return isPromise<T>(value) ? await value : value;
}

/** Runs the iterations, at most `maxConcurrency` at a time (0: no limit). */
async function iterate(
  s: MapState,
  run: StateRun,
  inputs: JsonValue[],
  maxConcurrency: number,
  resume: ChildrenCheckpoint | undefined,
): Promise<MapRun> {
  const mapRun = new MapRun(run.exec, s, run.frame, inputs, resume);
  // An inline Map runs at most 40 iterations at once, a distributed one 10,000 child executions (AWS's quotas).
  const cap = s.distributed ? 10_000 : 40;
  const lanes = Math.min(maxConcurrency > 0 ? maxConcurrency : cap, cap, inputs.length);
  // Lanes start synchronously: iterations that need no waiting run at once, in order.
  const pending: Promise<void>[] = [];
  for (let l = 0; l < lanes; l++) pending.push(mapRun.lane());
  await Promise.all(pending);
  mapRun.group.release();
  return mapRun;
}
