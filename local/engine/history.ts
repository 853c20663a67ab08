import { toJsonText } from './json';
import type { HistoryEvent } from './types';

/** Step Functions' quota on a Standard execution's history. */
export const DEFAULT_MAX_HISTORY_EVENTS = 25_000;

export type EventListener = (event: HistoryEvent) => void;

/** `inputDetails` / `outputDetails` of every event: the local engine never truncates. */
export const NOT_TRUNCATED: Readonly<{ truncated: false }> = Object.freeze({ truncated: false });

/** An event as recorded, before anyone has read it. */
class Pending {
  public constructor(
    public readonly id: number,
    public readonly previousEventId: number,
    public readonly timestamp: number,
    public readonly type: string,
    public readonly detailsKey: string | undefined,
    public readonly details: Record<string, unknown> | undefined,
    public readonly lazyKey: string | undefined,
    public readonly lazyValue: unknown,
    /** For StateEntered / StateExited events recorded without a details object: the state's name. */
    public readonly stateName: string | undefined = undefined,
  ) {}

  /** The public shape: `id`, `previousEventId`, `timestamp`, `type`, and the details member. */
  public toEvent(): HistoryEvent {
    const e: Record<string, unknown> = {
      id: this.id,
      previousEventId: this.previousEventId,
      timestamp: new Date(this.timestamp),
      type: this.type,
    };
    if (this.detailsKey && this.details) {
      if (this.lazyKey) this.details[this.lazyKey] = toJsonText(this.lazyValue);
      e[this.detailsKey] = this.details;
    } else if (this.detailsKey && this.stateName !== undefined) {
      e[this.detailsKey] =
        this.lazyKey === 'input'
          ? { input: toJsonText(this.lazyValue), inputDetails: NOT_TRUNCATED, name: this.stateName }
          : { name: this.stateName, output: toJsonText(this.lazyValue), outputDetails: NOT_TRUNCATED };
    }
    return e as unknown as HistoryEvent;
  }
}

/**
 * The history of one execution: events numbered from 1, each pointing at the event before it on its thread
 * (`previousEventId`).
 *
 * Inputs and outputs are JSON text in GetExecutionHistory. Writing that text for every transition costs more than
 * the transition itself, so an event keeps the (immutable) value and the text is written the first time anyone
 * reads the event: a listener, `events`, or a result. Nobody ever sees an event without its text.
 */
export class HistoryRecorder {
  private readonly list: (Pending | HistoryEvent)[] = [];
  private readyUpTo = 0;
  /** The time of the last event: no event is recorded before it, whatever the clock reads (it can be set back). */
  private lastTime = Number.NEGATIVE_INFINITY;

  /**
   * `listener` is asked for the current listener at each event (undefined when nobody listens, which lets the
   * events stay unwritten until read).
   */
  public constructor(
    private readonly now: () => number,
    private readonly listener: (() => EventListener | undefined) | undefined,
    public readonly limit: number = DEFAULT_MAX_HISTORY_EVENTS,
  ) {}

  public get length(): number {
    return this.list.length;
  }

  /**
   * Appends an event and returns its id. `detailsKey` is the `…EventDetails` member, when the type has one;
   * `lazyKey`/`lazyValue` name a member of the details that holds `lazyValue` as JSON text.
   */
  public append(
    type: string,
    previousEventId: number,
    detailsKey?: string,
    details?: Record<string, unknown>,
    lazyKey?: string,
    lazyValue?: unknown,
  ): number {
    const id = this.list.length + 1;
    const pending = new Pending(id, previousEventId, this.time(), type, detailsKey, details, lazyKey, lazyValue);
    this.list.push(pending);
    const listener = this.listener?.();
    if (listener) listener(this.materialize(id - 1));

    return id;
  }

  /** Appends a StateEntered (`input`) or StateExited (`output`) event without assigned variables. */
  public appendState(
    type: string,
    previousEventId: number,
    entered: boolean,
    stateName: string,
    value: unknown,
  ): number {
    const id = this.list.length + 1;
    const pending = new Pending(
      id,
      previousEventId,
      this.time(),
      type,
      entered ? 'stateEnteredEventDetails' : 'stateExitedEventDetails',
      undefined,
      entered ? 'input' : 'output',
      value,
      stateName,
    );
    this.list.push(pending);
    const listener = this.listener?.();
    if (listener) listener(this.materialize(id - 1));
    return id;
  }

  /** Copies the events of an earlier run in front (redrive); the events after them are not recorded before them. */
  public adopt(events: readonly HistoryEvent[]): void {
    for (const e of events) this.list.push(e);
    this.readyUpTo = this.list.length;
    const last = events.at(-1)?.timestamp.getTime();
    if (last !== undefined && last > this.lastTime) this.lastTime = last;
  }

  /** The clock's time, never before the last event's. */
  private time(): number {
    const now = this.now();
    if (now > this.lastTime) this.lastTime = now;
    return this.lastTime;
  }

  /** The events so far, in order, as GetExecutionHistory returns them. */
  public get events(): readonly HistoryEvent[] {
    for (let i = this.readyUpTo; i < this.list.length; i++) this.materialize(i);
    this.readyUpTo = this.list.length;
    return this.list.slice() as HistoryEvent[];
  }

  public full(): boolean {
    return this.list.length >= this.limit;
  }

  private materialize(index: number): HistoryEvent {
    const item = this.list[index] as Pending | HistoryEvent;
    if (!(item instanceof Pending)) return item;
    const event = item.toEvent();
    this.list[index] = event;
    return event;
  }
}
