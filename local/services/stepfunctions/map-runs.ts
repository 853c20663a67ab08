import type { HistoryEvent } from '../../engine';
import { decodeCursor, detailsOf, type ExecutionRecord, encodeCursor } from '../../store';

/**
 * Distributed Map runs, as ListMapRuns and DescribeMapRun see them, read from the execution's recorded history:
 * a run starts at its `MapRunStarted` event (which names it), ends at the `MapRunSucceeded` or `MapRunFailed` event
 * of the same thread, and has as many items as the `MapStateStarted` before it says. Its configuration
 * (MaxConcurrency, the tolerated failures) is the Map state's, from the definition.
 *
 * The local engine runs a distributed Map's iterations in process and records no child executions, so the counts
 * cannot be told apart item by item: every item is counted in the run's own status (all running, all succeeded,
 * all failed or all aborted). docs/adr/0016 records this.
 */

export type MapRunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

export interface MapRunCounts {
  readonly pending: number;
  readonly running: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly aborted: number;
  readonly total: number;
  readonly resultsWritten: number;
  readonly failuresNotRedrivable: number;
  readonly pendingRedrive: number;
}

export interface MapRunView {
  readonly mapRunArn: string;
  readonly executionArn: string;
  /** `...:stateMachine:<machine>/<label>`, the ARN the run's child workflows run under. */
  readonly stateMachineArn: string;
  readonly status: MapRunStatus;
  readonly startDate: Date;
  readonly stopDate: Date | undefined;
  readonly maxConcurrency: number;
  readonly toleratedFailurePercentage: number;
  readonly toleratedFailureCount: number;
  readonly itemCounts: MapRunCounts;
  readonly executionCounts: MapRunCounts;
  readonly redriveCount: number;
}

/** `arn:<p>:states:<r>:<a>:mapRun:<machine>/<label>:<execution name>-<event id>`, as the engine names a run. */
const MAP_RUN_ARN = /^(arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}):mapRun:([^/:]+)\/([^:]+):(.+)-(\d+)$/;

/** The execution a map run belongs to, or undefined when the ARN is not a map run's. */
export function executionOfMapRun(mapRunArn: string): string | undefined {
  const m = MAP_RUN_ARN.exec(mapRunArn);
  return m ? `${m[1]}:execution:${m[2]}:${m[4]}` : undefined;
}

function detail(event: HistoryEvent | undefined, key: string): unknown {
  return event ? detailsOf(event)?.[1]?.[key] : undefined;
}

/** The Map state a label names: its `Label`, or its name, searched through nested Parallel and Map states. */
function findMap(states: unknown, label: string): Record<string, unknown> | undefined {
  if (typeof states !== 'object' || states === null) return undefined;
  for (const [name, raw] of Object.entries(states as Record<string, unknown>)) {
    const state = raw as Record<string, unknown> | null;
    if (!state || typeof state !== 'object') continue;
    if (state['Type'] === 'Map' && (state['Label'] === label || (state['Label'] === undefined && name === label))) {
      return state;
    }
    const nested: unknown[] = [
      ...((state['Branches'] as unknown[] | undefined) ?? []),
      state['ItemProcessor'],
      state['Iterator'],
    ];
    for (const scope of nested) {
      const found = findMap((scope as { States?: unknown } | undefined)?.States, label);
      if (found) return found;
    }
  }
  return undefined;
}

function literal(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function counts(status: MapRunStatus, total: number): MapRunCounts {
  return {
    pending: 0,
    running: status === 'RUNNING' ? total : 0,
    succeeded: status === 'SUCCEEDED' ? total : 0,
    failed: status === 'FAILED' ? total : 0,
    timedOut: 0,
    aborted: status === 'ABORTED' ? total : 0,
    total,
    resultsWritten: 0,
    failuresNotRedrivable: 0,
    pendingRedrive: 0,
  };
}

/** The map runs of an execution, in the order they started. */
export function mapRunsOf(
  record: ExecutionRecord,
  history: readonly HistoryEvent[],
  definition: string | undefined,
): MapRunView[] {
  const byId = new Map(history.map((e) => [e.id, e] as const));
  /** The nearest event of `type` up a thread from `event` (exclusive). */
  const upThread = (event: HistoryEvent, test: (e: HistoryEvent) => boolean): HistoryEvent | undefined => {
    let at = byId.get(event.previousEventId);
    for (let steps = 0; at && steps < 100_000; steps++) {
      if (test(at)) return at;
      at = byId.get(at.previousEventId);
    }
    return undefined;
  };
  const ends = new Map<number, HistoryEvent>();
  for (const e of history) {
    if (e.type !== 'MapRunSucceeded' && e.type !== 'MapRunFailed') continue;
    const start = upThread(e, (x) => x.type === 'MapRunStarted');
    if (start && !ends.has(start.id)) ends.set(start.id, e);
  }
  let states: unknown;
  try {
    states = definition ? (JSON.parse(definition) as { States?: unknown }).States : undefined;
  } catch {
    states = undefined;
  }
  const runs: MapRunView[] = [];
  for (const e of history) {
    if (e.type !== 'MapRunStarted') continue;
    const mapRunArn = String(detail(e, 'mapRunArn') ?? '');
    const m = MAP_RUN_ARN.exec(mapRunArn);
    if (!m) continue;
    const end = ends.get(e.id);
    const status: MapRunStatus = end
      ? end.type === 'MapRunSucceeded'
        ? 'SUCCEEDED'
        : 'FAILED'
      : record.status === 'RUNNING'
        ? 'RUNNING'
        : 'ABORTED';
    const started = upThread(e, (x) => x.type === 'MapStateStarted');
    const total = literal(detail(started, 'length'));
    const state = findMap(states, m[3] as string) ?? {};
    const stop = end?.timestamp ?? (status === 'ABORTED' && record.stopDate ? new Date(record.stopDate) : undefined);
    runs.push({
      mapRunArn,
      executionArn: record.arn,
      stateMachineArn: `${m[1]}:stateMachine:${m[2]}/${m[3]}`,
      status,
      startDate: e.timestamp,
      stopDate: stop,
      maxConcurrency: literal(state['MaxConcurrency']),
      toleratedFailurePercentage: literal(state['ToleratedFailurePercentage']),
      toleratedFailureCount: literal(state['ToleratedFailureCount']),
      itemCounts: counts(status, total),
      executionCounts: counts(status, total),
      redriveCount: 0,
    });
  }
  return runs;
}

/** A page of map runs (`next`: where the next page starts). Throws the store's InvalidCursorError. */
export function pageOf(
  runs: readonly MapRunView[],
  limit: number,
  token: string | undefined,
): {
  items: MapRunView[];
  next: string | null;
} {
  const start = token === undefined ? 0 : decodeCursor<number>('mapRuns', token);
  const next = start + limit < runs.length ? encodeCursor('mapRuns', start + limit) : null;
  return { items: runs.slice(start, start + limit), next };
}
