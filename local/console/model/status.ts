/**
 * What an execution's history says about each state: which ran, which runs, which failed and why, which failed
 * and were caught, with their input and output. And the history as the table rows of the AWS console (id, type,
 * step, started after, date).
 *
 * Events are attributed to the state they belong to by following `previousEventId` (each event points at the
 * event before it on its own thread, so the iterations of a Map and the branches of a Parallel keep apart), with
 * three rules for the events of a Map or Parallel itself: `MapIteration*` events name their Map; a `…StateStarted`
 * event belongs to the state entered just before; `Map/ParallelState{Succeeded,Failed,Aborted}` come right after
 * an event of their own state. Pure: no DOM.
 */

/** An event as GetExecutionHistory returns it (a `timestamp` as an ISO string or a Date). */
export interface HistoryEventLike {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: string | number | Date;
  readonly type: string;
  readonly [details: string]: unknown;
}

export type StateStatus = 'notStarted' | 'running' | 'succeeded' | 'caught' | 'failed' | 'aborted';

/** One time a state was entered (a Map's states are entered once per item). */
export interface StateRun {
  /** The id of its `…StateEntered` event. */
  readonly enteredId: number;
  readonly name: string;
  /** The ASL type, from the event type (`TaskStateEntered` → `Task`). */
  readonly stateType: string;
  status: StateStatus;
  exitedId?: number;
  /** JSON text. */
  input?: string;
  output?: string;
  /** The variables its exit assigned (`assignedVariables`: names to JSON texts), when it assigned any. */
  assigned?: Readonly<Record<string, string>>;
  error?: string;
  cause?: string;
  /** Attempts after the first (TaskScheduled, LambdaFunctionScheduled again after a failure). */
  retries: number;
  /** The run of the Map or Parallel state this one sits in (its enteredId), 0 at the top level. */
  readonly container: number;
  /** The Map item this run belongs to (its index), when it sits in a Map iteration. */
  readonly iteration?: number;
  readonly enteredAt: number;
  exitedAt?: number;
  /** A failure not yet followed by a new attempt or by leaving the state. */
  failing: boolean;
  /** Left behind by a redrive: the redriven execution ran the state again. */
  superseded: boolean;
}

/** A state's status over all its runs, and the run to show first (the failed one, else the latest). */
export interface StateSummary {
  readonly name: string;
  readonly status: StateStatus;
  readonly runs: readonly StateRun[];
  readonly shown: StateRun;
  readonly counts: Readonly<Partial<Record<StateStatus, number>>>;
}

/** One row of the events table. */
export interface HistoryRow {
  readonly id: number;
  readonly type: string;
  /** The state the event belongs to ('' for execution events before any state). */
  readonly step: string;
  /** The run of the state it belongs to (its enteredId), 0 for none. */
  readonly run: number;
  /** Milliseconds since the epoch. */
  readonly time: number;
  /** Milliseconds since the execution started. */
  readonly elapsed: number;
  /** `error`, `cause`, `resource` when the event has them. */
  readonly error?: string;
  readonly resource?: string;
  /** The status the event's type stands for: `failed` for …Failed / …TimedOut, `succeeded` for …Succeeded. */
  readonly tone: 'failed' | 'succeeded' | 'aborted' | 'neutral';
}

export interface ExecutionView {
  readonly states: ReadonlyMap<string, StateSummary>;
  /**
   * The transitions the run took, as `from->to|kind`: `kind` is `catch` when the state was left by a Catch,
   * else `next`; `#start` and `#end` stand for the top level's start and end.
   */
  readonly transitions: ReadonlySet<string>;
  readonly rows: readonly HistoryRow[];
  /** The run whose failure ended the execution, when it failed. */
  readonly failedRun?: StateRun;
}

const PRIORITY: readonly StateStatus[] = ['running', 'failed', 'aborted', 'caught', 'succeeded', 'notStarted'];

function millis(t: string | number | Date): number {
  return t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
}

/** The `…EventDetails` member of an event. */
export function detailsOf(event: HistoryEventLike): Record<string, unknown> | undefined {
  for (const key of Object.keys(event)) {
    if (key.endsWith('EventDetails')) {
      const value = event[key];
      return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
    }
  }
  return undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function isFailure(type: string): boolean {
  return /(Failed|TimedOut)$/.test(type) && !type.startsWith('MapIteration') && type !== 'ExecutionFailed';
}

function isAttempt(type: string): boolean {
  return type === 'TaskScheduled' || type === 'LambdaFunctionScheduled' || type === 'ActivityScheduled';
}

function toneOf(type: string): HistoryRow['tone'] {
  if (/(Failed|TimedOut)$/.test(type)) return 'failed';
  if (/Aborted$/.test(type)) return 'aborted';
  if (/Succeeded$/.test(type)) return 'succeeded';
  return 'neutral';
}

/**
 * Reads a history (oldest first). `executionStatus` says whether the execution is still running: a state that
 * was entered and not left is `running` while it is, and `failed` or `aborted` after.
 */
// size-exception(function): one fold over the history events, a case per event type over the fold's shared maps;
// splitting it is left to the console's owners (issue 13)
export function readHistory(events: readonly HistoryEventLike[], executionStatus = 'RUNNING'): ExecutionView {
  const runOf = new Map<number, StateRun | undefined>();
  const typeOf = new Map<number, string>();
  const runs: StateRun[] = [];
  const byEntered = new Map<number, StateRun>();
  const rows: HistoryRow[] = [];
  const iterationIndex = new Map<number, number>();
  let start = events.length > 0 ? millis((events[0] as HistoryEventLike).timestamp) : 0;
  let failedRun: StateRun | undefined;
  const transitions = new Set<string>();
  let lastTop: StateRun | undefined;

  const containerOf = (run: StateRun | undefined): StateRun | undefined =>
    run?.container ? byEntered.get(run.container) : undefined;

  for (const event of events) {
    const { id, type } = event;
    const prevId = event.previousEventId;
    const prev = runOf.get(prevId);
    const prevType = typeOf.get(prevId) ?? '';
    const details = detailsOf(event);
    const time = millis(event.timestamp);
    typeOf.set(id, type);
    if (type === 'ExecutionStarted') start = time;
    let run: StateRun | undefined;

    if (type.endsWith('StateEntered')) {
      const opensContainer = prevType === 'MapIterationStarted' || prevType === 'ParallelStateStarted';
      const container = opensContainer ? prev : containerOf(prev);
      const index = prevType === 'MapIterationStarted' ? iterationIndex.get(prevId) : undefined;
      const inherited = !opensContainer && prev && prev.container === container?.enteredId ? prev.iteration : undefined;
      const created: StateRun = {
        enteredId: id,
        name: str(details?.['name']) ?? '',
        stateType: type.slice(0, -'StateEntered'.length),
        status: 'running',
        retries: 0,
        container: container?.enteredId ?? 0,
        ...(typeof index === 'number' ? { iteration: index } : inherited !== undefined ? { iteration: inherited } : {}),
        enteredAt: time,
        failing: false,
        superseded: false,
      };
      const input = str(details?.['input']);
      if (input !== undefined) created.input = input;
      runs.push(created);
      byEntered.set(id, created);
      run = created;
      if (prevType.endsWith('StateExited') && prev && prev.container === created.container) {
        transitions.add(`${prev.name}->${created.name}|${prev.failing ? 'catch' : 'next'}`);
      } else if (created.container === 0 && (prevType === 'ExecutionStarted' || prevId === 0)) {
        transitions.add(`#start->${created.name}|next`);
      }
      if (created.container === 0) lastTop = created;
    } else if (type.startsWith('MapIteration')) {
      const name = str(details?.['name']);
      const index = details?.['index'];
      if (type === 'MapIterationStarted' && typeof index === 'number') iterationIndex.set(id, index);
      run = prev;
      while (run && run.name !== name) run = containerOf(run);
    } else if (/^(Map|Parallel)State(Succeeded|Failed|Aborted)$/.test(type)) {
      const own = prevType.startsWith('MapIteration') || /^(Map|Parallel)StateStarted$/.test(prevType);
      run = own ? prev : containerOf(prev);
    } else if (type === 'ExecutionRedriven') {
      for (const r of runs) if (r.exitedId === undefined) r.superseded = true;
      run = undefined;
    } else {
      run = prev;
    }
    runOf.set(id, run);

    if (run) {
      if (type.endsWith('StateExited') && run.enteredId !== id) {
        run.exitedId = id;
        run.exitedAt = time;
        const output = str(details?.['output']);
        if (output !== undefined) run.output = output;
        const assigned = details?.['assignedVariables'];
        if (assigned && typeof assigned === 'object') run.assigned = assigned as Record<string, string>;
      } else if (isAttempt(type)) {
        if (run.failing) run.retries++;
        run.failing = false;
      } else if (isFailure(type) || (type === 'ExecutionFailed' && run.stateType === 'Fail')) {
        const error = str(details?.['error']);
        const cause = str(details?.['cause']);
        if (error !== undefined || cause !== undefined || !run.error) {
          if (error !== undefined) run.error = error;
          if (cause !== undefined) run.cause = cause;
        }
        run.failing = true;
      }
    }
    if (type === 'ExecutionFailed' || type === 'ExecutionTimedOut') failedRun = run ?? failedRun;
    if ((type === 'ExecutionSucceeded' || type === 'ExecutionFailed') && lastTop) {
      const terminal =
        lastTop.stateType === 'Succeed' || lastTop.stateType === 'Fail' || lastTop.exitedId !== undefined;
      if (terminal) transitions.add(`${lastTop.name}->#end|next`);
    }

    const resource = details ? str(details['resource']) : undefined;
    const resourceType = details ? str(details['resourceType']) : undefined;
    const error = details ? str(details['error']) : undefined;
    rows.push({
      id,
      type,
      step: run?.name ?? '',
      run: run?.enteredId ?? 0,
      time,
      elapsed: time - start,
      tone: toneOf(type),
      ...(error !== undefined ? { error } : {}),
      ...(resource !== undefined ? { resource: resourceType ? `${resourceType}:${resource}` : resource } : {}),
    });
  }

  const ended = executionStatus !== 'RUNNING';
  for (const r of runs) {
    if (r.exitedId !== undefined) r.status = r.failing ? 'caught' : 'succeeded';
    else if (r.stateType === 'Fail') r.status = 'failed';
    else if (r.failing) r.status = 'failed';
    else if (!ended) r.status = 'running';
    else r.status = executionStatus === 'ABORTED' ? 'aborted' : 'failed';
  }

  // The run that ended a failed execution: the innermost failing run.
  if (ended && executionStatus !== 'SUCCEEDED') {
    const failing = runs.filter((r) => !r.superseded && (r.status === 'failed' || r.status === 'aborted') && r.error);
    failedRun = failing[failing.length - 1] ?? failedRun;
  }

  const states = new Map<string, StateSummary>();
  const grouped = new Map<string, StateRun[]>();
  for (const r of runs) {
    const list = grouped.get(r.name);
    if (list) list.push(r);
    else grouped.set(r.name, [r]);
  }
  for (const [name, list] of grouped) {
    const live = list.filter((r) => !r.superseded);
    const counted = live.length > 0 ? live : list;
    const counts: Partial<Record<StateStatus, number>> = {};
    for (const r of counted) counts[r.status] = (counts[r.status] ?? 0) + 1;
    const status = PRIORITY.find((p) => counts[p]) ?? 'notStarted';
    const shown =
      [...counted].reverse().find((r) => r.status === status && (r.error || status !== 'failed')) ??
      (counted[counted.length - 1] as StateRun);
    states.set(name, { name, status, runs: list, shown, counts });
  }
  return { states, rows, transitions, ...(failedRun ? { failedRun } : {}) };
}

/** `1 h 02 min`, `3 min 04 s`, `5.2 s`, `120 ms`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
