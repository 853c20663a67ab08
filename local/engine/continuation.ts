import { jsonEquals } from './json';
import type { HistoryEvent, JsonValue } from './types';

/**
 * What an execution continued from its recorded history (`continueFrom`, a redrive) takes from that history's
 * times (ADR 0115):
 * - its clock goes on from the last recorded event: the virtual clock starts there, the real clock never reads
 *   earlier (`lastRecordedTime`);
 * - an execution that was interrupted (its history has no end after its last start: the local runtime was killed
 *   or stopped) continues a Wait it was in to the end that Wait had: `Seconds` count "from when the state
 *   begins" (AWS, Wait state), and it began when it was first entered (`waitStartedAt`). An execution that had
 *   ended (FAILED, ABORTED, TIMED_OUT) and is redriven runs the state again, a Wait in full, as before.
 */

const LIFECYCLE = new Set([
  'ExecutionStarted',
  'ExecutionRedriven',
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionAborted',
  'ExecutionTimedOut',
]);

/** The time of the last recorded event, if any. */
export function lastRecordedTime(history: readonly HistoryEvent[]): number | undefined {
  return history.at(-1)?.timestamp.getTime();
}

/** Whether the history stops in the middle of a run (no end recorded after its last start or redrive). */
export function interrupted(history: readonly HistoryEvent[]): boolean {
  for (let i = history.length - 1; i >= 0; i--) {
    const type = (history[i] as HistoryEvent).type;
    if (LIFECYCLE.has(type)) return type === 'ExecutionStarted' || type === 'ExecutionRedriven';
  }
  return false;
}

const detailsOf = (event: HistoryEvent): Record<string, unknown> | undefined =>
  event['stateEnteredEventDetails'] as Record<string, unknown> | undefined;

function inputOf(event: HistoryEvent): JsonValue | undefined {
  const text = detailsOf(event)?.['input'];
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

interface Entry {
  readonly event: HistoryEvent;
  /** Nothing followed it on its thread (no event names it as its previous one): the Wait was not left. */
  readonly open: boolean;
  /** Its position in the history. */
  readonly at: number;
}

/**
 * The Waits an interrupted history stood in, and when each was first entered. Each continuation enters the Wait
 * again (the history goes on as after a redrive, ADR 0053), so an entry left open is the continuation of the open
 * entry of the same Wait before it when an `ExecutionRedriven` lies between them (and no entry of the same Wait
 * was exited in between): the chain leads back to the first entry, whose time counts.
 */
export class OpenWaits {
  private readonly followed = new Set<number>();
  /** Entries already given to a scope (two Map iterations in the same Wait with the same input). */
  private readonly taken = new Set<number>();

  public constructor(private readonly history: readonly HistoryEvent[]) {
    for (const e of history) this.followed.add(e.previousEventId);
  }

  /** When the Wait `name` that a scope stood in with `input` was first entered; undefined when none is found. */
  public startedAt(name: string, input: JsonValue): number | undefined {
    const entries: Entry[] = [];
    this.history.forEach((event, at) => {
      if (event.type !== 'WaitStateEntered' || detailsOf(event)?.['name'] !== name) return;
      if (jsonEquals(inputOf(event), input)) entries.push({ event, open: !this.followed.has(event.id), at });
    });
    let i = entries.length - 1;
    while (i >= 0 && (!entries[i]?.open || this.taken.has(entries[i]?.event.id ?? 0))) i--;
    const last = entries[i];
    if (!last) return undefined;
    this.taken.add(last.event.id);
    let first = last;
    for (let before = entries[--i]; before?.open && this.redrivenBetween(before.at, first.at); before = entries[--i])
      first = before;
    return first.event.timestamp.getTime();
  }

  private redrivenBetween(from: number, to: number): boolean {
    for (let i = from + 1; i < to; i++) if (this.history[i]?.type === 'ExecutionRedriven') return true;
    return false;
  }
}
