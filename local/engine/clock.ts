import type { ClockMode } from './types';

/**
 * The time an execution runs on. Wait states, Retry intervals, task timeouts and heartbeats all sleep on it.
 *
 * - `RealClock` sleeps with timers.
 * - `VirtualClock` never sleeps: whenever the execution has nothing left to do but wait (no microtask pending, no
 *   task handler running), it jumps to the earliest timer and fires it. A Wait of a day takes no time, and the
 *   timestamps in the history still advance by a day.
 */
export interface Clock {
  readonly mode: ClockMode;
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Marks work outside the engine (a handler call) in progress: the virtual clock does not move meanwhile. */
  busy<T>(work: Promise<T>): Promise<T>;
}

export class RealClock implements Clock {
  public readonly mode = 'real' as const;

  /**
   * `floor`: a time the clock never reads earlier than (an execution continued from its history: its last
   * recorded event, should the machine's clock be behind it).
   */
  public constructor(private readonly floor?: number) {}

  public now(): number {
    const now = Date.now();
    return this.floor !== undefined && now < this.floor ? this.floor : now;
  }

  public sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      // Timers hold at most 2^31-1 ms; longer sleeps chain.
      const step = Math.min(Math.max(0, ms), 2_147_483_647);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        if (step < ms) this.sleep(ms - step, signal).then(resolve, reject);
        else resolve();
      }, step);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  public busy<T>(work: Promise<T>): Promise<T> {
    return work;
  }
}

interface Timer {
  readonly due: number;
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

export class VirtualClock implements Clock {
  public readonly mode = 'virtual' as const;
  private current: number;
  private readonly timers: Timer[] = [];
  private seq = 0;
  private busyCount = 0;
  private pumpScheduled = false;

  public constructor(start: number = Date.now()) {
    this.current = start;
  }

  public now(): number {
    return this.current;
  }

  public sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const timer: Timer = {
        due: this.current + Math.max(0, ms),
        seq: this.seq++,
        cancelled: false,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        timer.cancelled = true;
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.schedulePump();
    });
  }

  public busy<T>(work: Promise<T>): Promise<T> {
    this.busyCount++;
    const done = (): void => {
      this.busyCount--;
      this.schedulePump();
    };
    work.then(done, done);
    return work;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  /** Runs once the microtask queue is empty: if nothing else is in progress, fires the earliest timer. */
  private pump(): void {
    this.pumpScheduled = false;
    if (this.busyCount > 0) return;
    let timer: Timer | undefined;
    for (const t of this.timers) {
      if (t.cancelled) continue;
      if (!timer || t.due < timer.due || (t.due === timer.due && t.seq < timer.seq)) timer = t;
    }
    const keep = this.timers.filter((t) => !t.cancelled && t !== timer);
    this.timers.length = 0;
    this.timers.push(...keep);
    if (!timer) return;
    if (timer.due > this.current) this.current = timer.due;
    timer.fire();
    if (this.timers.length > 0) this.schedulePump();
  }
}

/**
 * A new clock. `from`: the time an execution continued from its history goes on from (its last recorded event):
 * the virtual clock starts there, the real clock never reads earlier.
 */
export function createClock(mode: ClockMode, from?: number): Clock {
  return mode === 'virtual' ? new VirtualClock(from) : new RealClock(from);
}
