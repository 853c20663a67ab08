/**
 * An execution's history, folded into one row per state visit: when the state was entered (from the start of the
 * execution), how long it took, the Map iteration it ran in, and how it ended. Read from the same events that
 * `stepline executions history` lists one by one (GetExecutionHistory's), so a run of 130 events reads as 40 rows.
 *
 * Map iterations interleave in the history; each event's `previousEventId` points at the event before it on its own
 * thread, which gives every event its iteration: `Test[1] › RunSuite`.
 */

/** What this module reads of a history event: its ids, type, time, and the `…EventDetails` member. */
export interface HistoryEventLike {
  readonly id: number;
  readonly previousEventId?: number;
  readonly type: string;
  readonly timestamp: Date | string;
  readonly [key: string]: unknown;
}

export interface StateVisit {
  /** The id of the `…StateEntered` event. */
  readonly id: number;
  /** The state's name, prefixed with its Map iterations: `Promote[1] › Deploy`. */
  readonly path: string;
  readonly name: string;
  /** Task, Choice, Wait, Map, Pass, Succeed, Fail, Parallel. */
  readonly type: string;
  /** Milliseconds since the epoch. */
  readonly enteredAt: number;
  /** Null while the state runs (or when the execution ended in it). */
  readonly exitedAt: number | null;
  /** `ok`, `running`, or the error that ended it (`failed States.TaskFailed`, caught or not). */
  readonly outcome: string;
  /** What a Task called: `lambda stepline-status`, `codebuild stepline-build`. */
  readonly resource: string | null;
}

export function timeOf(event: HistoryEventLike): number {
  return typeof event.timestamp === 'string' ? Date.parse(event.timestamp) : event.timestamp.getTime();
}

export function detailsOf(event: HistoryEventLike): Record<string, unknown> {
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventDetails') && value && typeof value === 'object') return value as Record<string, unknown>;
  }
  return {};
}

const ITERATION_END = new Set(['MapIterationSucceeded', 'MapIterationFailed', 'MapIterationAborted']);
const FAILURE = /(Failed|TimedOut|Aborted)$/;

/**
 * Follows the Map iterations of a history as its events come, in order: `observe(event)` answers the iterations
 * the event ran in, outermost first (`['Promote[1]']`).
 */
export class IterationTracker {
  private readonly after = new Map<number, readonly string[]>();

  public observe(event: HistoryEventLike): readonly string[] {
    const base = this.after.get(event.previousEventId ?? 0) ?? [];
    let own = base;
    let next = base;
    if (event.type === 'MapIterationStarted') {
      const details = detailsOf(event);
      own = [...base, `${String(details['name'] ?? 'Map')}[${String(details['index'] ?? '?')}]`];
      next = own;
    } else if (ITERATION_END.has(event.type)) {
      next = base.slice(0, -1);
    }
    this.after.set(event.id, next);
    return own;
  }
}

/** Each event's Map iterations, outermost first, by event id. */
export function iterationsOf(events: readonly HistoryEventLike[]): Map<number, readonly string[]> {
  const tracker = new IterationTracker();
  return new Map(events.map((event) => [event.id, tracker.observe(event)]));
}

function resourceOf(details: Record<string, unknown>): string | null {
  const type = typeof details['resourceType'] === 'string' ? details['resourceType'] : null;
  if (!type) return null;
  let target: string | null = null;
  try {
    const parameters = JSON.parse(String(details['parameters'] ?? '{}')) as Record<string, unknown>;
    const name = parameters['FunctionName'] ?? parameters['ProjectName'];
    if (typeof name === 'string') target = name.split(':').pop() ?? name;
  } catch {
    target = null;
  }
  return target ? `${type} ${target}` : `${type} ${String(details['resource'] ?? '')}`.trim();
}

/** The state visits of a history, in the order they were entered. */
export function stateVisits(events: readonly HistoryEventLike[]): StateVisit[] {
  const iterations = iterationsOf(events);
  const visits: {
    -readonly [K in keyof StateVisit]: StateVisit[K];
  }[] = [];
  const open = new Map<string, (typeof visits)[number]>();
  const close = (key: string, at: number, exited: boolean, next?: string): void => {
    const visit = open.get(key);
    if (!visit) return;
    open.delete(key);
    visit.exitedAt = at;
    if (visit.outcome === 'running') visit.outcome = exited ? 'ok' : 'ended';
    else if (next && visit.outcome.startsWith('failed')) visit.outcome = `${visit.outcome}, caught → ${next}`;
  };
  for (const event of events) {
    const scope = (iterations.get(event.id) ?? []).join(' › ');
    const at = timeOf(event);
    const details = detailsOf(event);
    const entered = /^(\w+)StateEntered$/.exec(event.type);
    if (entered) {
      const name = String(details['name'] ?? '?');
      close(scope, at, false, name);
      const visit = {
        id: event.id,
        path: scope ? `${scope} › ${name}` : name,
        name,
        type: entered[1] as string,
        enteredAt: at,
        exitedAt: null,
        outcome: 'running',
        resource: null,
      };
      visits.push(visit);
      open.set(scope, visit);
      continue;
    }
    if (/StateExited$/.test(event.type)) {
      close(scope, at, true);
      continue;
    }
    const visit = open.get(scope);
    if (event.type === 'TaskScheduled' && visit) visit.resource = resourceOf(details);
    if (FAILURE.test(event.type) && !event.type.startsWith('Execution') && !ITERATION_END.has(event.type) && visit) {
      visit.outcome = `failed ${String(details['error'] ?? event.type)}`;
    }
    if (/Succeeded$/.test(event.type) && visit?.outcome.startsWith('failed')) visit.outcome = 'ok (retried)';
    if (/^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(event.type)) {
      for (const [key, running] of open) {
        if (running.type === 'Fail' || event.type !== 'ExecutionSucceeded') {
          running.outcome =
            `${event.type.slice('Execution'.length).toLowerCase()} ${String(details['error'] ?? '')}`.trim();
        }
        close(key, at, false);
      }
    }
  }
  return visits;
}
