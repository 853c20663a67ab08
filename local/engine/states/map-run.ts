import { CancelScope } from '../cancel';
import type { MapState } from '../compiled';
import { StatesError } from '../errors';
import { AbortReason, type ChildrenCheckpoint, type Frame, isPromise, newFrame, type ScopeCheckpoint } from '../frame';
import type { ExecutionContext } from '../state-run';
import type { JsonValue } from '../types';
import { VariableScope } from '../variables';

/** The iterations of one Map attempt: their results, failures and where failed ones stopped. */
export class MapRun {
  public readonly group: CancelScope;
  public readonly results: JsonValue[];
  private readonly succeeded: Uint8Array;
  public readonly failures = new Map<number, StatesError>();
  public readonly failedAt = new Map<number, ScopeCheckpoint>();
  public firstError: unknown = undefined;
  private nextIndex = 0;

  public constructor(
    private readonly exec: ExecutionContext,
    private readonly state: MapState,
    private readonly frame: Frame,
    private readonly inputs: JsonValue[],
    private readonly resume: ChildrenCheckpoint | undefined,
  ) {
    this.group = CancelScope.childOf(frame.signal);
    this.results = new Array(inputs.length).fill(null);
    this.succeeded = new Uint8Array(inputs.length);
  }

  /** The results of the iterations that succeeded (a redrive keeps them). */
  public get done(): Map<number, JsonValue> {
    const out = new Map<number, JsonValue>();
    for (let i = 0; i < this.succeeded.length; i++) if (this.succeeded[i]) out.set(i, this.results[i] as JsonValue);
    return out;
  }

  public async lane(): Promise<void> {
    while (this.nextIndex < this.inputs.length && this.firstError === undefined) {
      const p = this.runOne(this.nextIndex++);
      if (p) await p;
    }
  }

  private runOne(i: number): void | Promise<void> {
    const { resume, state, frame } = this;
    if (resume?.results.has(i)) {
      this.results[i] = resume.results.get(i) as JsonValue;
      this.succeeded[i] = 1;
      return;
    }
    if (this.group.aborted) return;
    const iterResume = resume?.failed.get(i);
    const distributed = state.distributed;
    // A distributed Map's child workflows do not see the parent's variables, nor record in its history.
    const vars = new VariableScope(distributed ? undefined : frame.vars, iterResume?.variables);
    const mapItem = { Index: i, Value: this.inputs[i] as JsonValue };
    const child = newFrame(
      state.processor,
      vars,
      frame.thread.last,
      this.group,
      mapItem,
      frame.record && !distributed,
      iterResume,
    );
    this.exec.emit(child, 'MapIterationStarted', 'mapIterationStartedEventDetails', {
      index: i,
      name: state.name,
    });
    try {
      const r = this.exec.runScope(child, iterResume ? iterResume.input : (this.inputs[i] as JsonValue));
      if (isPromise<JsonValue>(r)) {
        return r.then(
          (v) => this.ok(child, i, v),
          (err) => this.bad(child, i, err),
        );
      }
      this.ok(child, i, r);
    } catch (err) {
      this.bad(child, i, err);
    }
  }

  private ok(child: Frame, i: number, v: JsonValue): void {
    this.results[i] = v;
    this.succeeded[i] = 1;
    this.exec.emit(child, 'MapIterationSucceeded', 'mapIterationSucceededEventDetails', {
      index: i,
      name: this.state.name,
    });
    this.frame.thread.last = child.thread.last;
  }

  private bad(child: Frame, i: number, err: unknown): void {
    const name = this.state.name;
    if (err instanceof AbortReason) {
      if (err.kind === 'cancel' && child.record && !this.frame.signal.aborted) {
        this.exec.emit(child, 'MapIterationAborted', 'mapIterationAbortedEventDetails', { index: i, name });
      }
      if (this.firstError === undefined && !(err.kind === 'cancel' && this.group.aborted)) this.firstError = err;
      return;
    }
    const e =
      err instanceof StatesError ? err : new StatesError('States.Runtime', String((err as Error)?.message ?? err));
    const cp = this.exec.checkpointOf(child);
    if (cp) this.failedAt.set(i, cp);
    this.exec.emit(child, 'MapIterationFailed', 'mapIterationFailedEventDetails', { index: i, name });
    this.frame.thread.last = child.thread.last;
    if (this.state.distributed && !e.terminal) {
      this.failures.set(i, e);
      return;
    }
    if (this.firstError === undefined) {
      this.firstError = e;
      this.group.abort(new AbortReason('cancel'));
    }
  }
}
