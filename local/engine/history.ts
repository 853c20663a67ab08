import type { HistoryEvent } from './types';

/** Step Functions' quota on a Standard execution's history. */
export const DEFAULT_MAX_HISTORY_EVENTS = 25_000;

export type EventListener = (event: HistoryEvent) => void;

/**
 * The history of one execution: events numbered from 1, each pointing at the event before it on its thread
 * (`previousEventId`), handed to the listener the moment they are appended.
 */
export class HistoryRecorder {
  public readonly events: HistoryEvent[] = [];

  public constructor(
    private readonly now: () => number,
    private readonly listener: EventListener | undefined,
    public readonly limit: number = DEFAULT_MAX_HISTORY_EVENTS,
  ) {}

  public get length(): number {
    return this.events.length;
  }

  /** Appends an event and returns its id. `detailsKey` is the `…EventDetails` member, when the type has one. */
  public append(type: string, previousEventId: number, detailsKey?: string, details?: object): number {
    const id = this.events.length + 1;
    const event: Record<string, unknown> = { id, previousEventId, timestamp: new Date(this.now()), type };
    if (detailsKey && details) event[detailsKey] = details;
    this.events.push(event as unknown as HistoryEvent);
    if (this.listener) {
      try {
        this.listener(event as unknown as HistoryEvent);
      } catch {
        // A listener's failure must not change the execution; listeners report their own errors.
      }
    }
    return id;
  }

  public full(): boolean {
    return this.events.length >= this.limit;
  }
}
