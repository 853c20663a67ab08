/**
 * Cancellation inside the engine: a lighter stand-in for AbortController (which costs an EventTarget per
 * execution, branch and task). A scope aborts with a reason and tells its listeners and child scopes; a real
 * AbortSignal is made only for code outside the engine (task handlers) that needs one.
 */
export class CancelScope {
  public aborted = false;
  public reason: unknown = undefined;
  private listeners: (() => void)[] | undefined;
  private controller: AbortController | undefined;

  /** A scope that aborts when `parent` does (and may abort on its own). */
  public static childOf(parent: CancelScope): CancelScope {
    const child = new CancelScope();
    if (parent.aborted) {
      child.aborted = true;
      child.reason = parent.reason;
    } else child.release = parent.onAbort(() => child.abort(parent.reason));
    return child;
  }

  /** Detaches a child scope from its parent once it is no longer needed. */
  public release: () => void = () => {};

  public abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.release();
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const l of listeners) l();
    this.controller?.abort(reason);
  }

  /** Calls `listener` once on abort; returns a function that removes it. */
  public onAbort(listener: () => void): () => void {
    if (this.aborted) {
      listener();
      return () => {};
    }
    this.listeners ??= [];
    this.listeners.push(listener);
    return () => {
      const list = this.listeners;
      if (!list) return;
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** An AbortSignal that follows this scope (made on first use). */
  public get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
}
