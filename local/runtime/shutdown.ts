/**
 * What `stop()` undoes, in the reverse order of start: each start-up step that opens something (the server, the
 * simulated cluster, the SDK client, the builds, the timers) adds how to close it here as soon as it is open, so a
 * start that fails half-way unwinds exactly what it had opened. A step that fails to close does not stop the rest.
 */

export type Cleanup = () => void | Promise<void>;

export class Cleanups {
  readonly #steps: Cleanup[] = [];

  /** Runs before everything added earlier. */
  public add(step: Cleanup): void {
    this.#steps.push(step);
  }

  /** Runs after everything else (the state file's close and the folder's lock). */
  public addLast(step: Cleanup): void {
    this.#steps.unshift(step);
  }

  /** Runs every step, newest first, each once; errors are swallowed so the rest still run. */
  public async run(): Promise<void> {
    const steps = this.#steps.splice(0).reverse();
    for (const step of steps) {
      try {
        await step();
      } catch {
        // Keep stopping the rest.
      }
    }
  }
}
