import type { MapState } from '../compiled';
import { runtimeError, StatesError } from '../errors';
import { isPromise } from '../frame';
import { toJsonText, utf8Length } from '../json';
import type { Maybe, StateRun } from '../state-run';
import type { JsonObject, JsonValue } from '../types';
import type { MapRun } from './map-run';

/**
 * What a distributed Map adds to an inline one: tolerated failures (ToleratedFailureCount and
 * ToleratedFailurePercentage, none by default), ItemBatcher, and a result in which each failed child execution
 * stands as its Error and Cause. Its child executions are not in the parent's history: MapRunStarted,
 * MapRunSucceeded or MapRunFailed stand for them.
 */

export interface Tolerance {
  readonly count: number;
  readonly percent: number;
}

async function settled<T>(value: Maybe<T>): Promise<T> {
  return isPromise<T>(value) ? await value : value;
}

/** The thresholds above which the Map fails. */
export async function tolerance(s: MapState, run: StateRun, effective: JsonValue): Promise<Tolerance> {
  const count = await settled(s.io.number(run, s.toleratedFailureCount, effective, 'integer', 0));
  const pct = await settled(s.io.number(run, s.toleratedFailurePercentage, effective, 'float', 0));
  if (count === undefined && pct === undefined) return { count: 0, percent: 0 };
  if (count !== undefined && count < 0) throw runtimeError('ToleratedFailureCount cannot be negative.');
  if (pct !== undefined && (pct < 0 || pct > 100))
    throw runtimeError('ToleratedFailurePercentage must be between 0 and 100.');
  return { count: count ?? Number.POSITIVE_INFINITY, percent: pct ?? Number.POSITIVE_INFINITY };
}

/** ItemBatcher: the items in batches of at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes. */
export async function batchItems(
  s: MapState,
  run: StateRun,
  effective: JsonValue,
  items: readonly JsonValue[],
): Promise<JsonValue[]> {
  const b = s.batcher as NonNullable<MapState['batcher']>;
  const maxItems = await settled(s.io.number(run, b.maxItems, effective, 'integer', 1));
  const maxBytes = await settled(s.io.number(run, b.maxBytes, effective, 'integer', 1));
  const batchInput = await settled(s.io.batchInput(run, effective));
  const out: JsonValue[] = [];
  let cur: JsonValue[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (cur.length === 0) return;
    const batch: JsonObject = { Items: cur };
    if (batchInput !== undefined) batch['BatchInput'] = batchInput;
    out.push(batch);
    cur = [];
    bytes = 0;
  };
  for (const item of items) {
    const size = utf8Length(toJsonText(item));
    const full =
      (maxItems !== undefined && cur.length >= maxItems) || (maxBytes !== undefined && bytes + size > maxBytes);
    if (cur.length > 0 && full) flush();
    cur.push(item);
    bytes += size;
  }
  flush();
  return out;
}

/** The Map's result, or its failure when more children failed than it tolerates. */
export function distributedResult(run: StateRun, outcome: MapRun, total: number, limits: Tolerance): JsonValue[] {
  const failures = outcome.failures.size;
  const exceeded = failures > limits.count || (total > 0 && (failures / total) * 100 > limits.percent);
  if (exceeded) {
    run.frame.children = { results: outcome.done, failed: outcome.failedAt };
    run.exec.emit(run.frame, 'MapRunFailed', 'mapRunFailedEventDetails', {
      error: 'States.ExceedToleratedFailureThreshold',
      cause: 'The specified tolerated failure threshold was exceeded',
    });
    throw new StatesError(
      'States.ExceedToleratedFailureThreshold',
      'The specified tolerated failure threshold was exceeded',
    );
  }
  run.exec.emit(run.frame, 'MapRunSucceeded');
  return outcome.results.map((v, i) => {
    const f = outcome.failures.get(i);
    if (!f) return v;
    const out: JsonObject = { Error: f.error };
    if (f.cause !== undefined) out['Cause'] = f.cause;
    return out;
  });
}
