import { CancelScope } from './cancel';
import type { Clock } from './clock';
import type { CompiledState, CompiledStateMachine } from './compiled';
import { interrupted, OpenWaits } from './continuation';
import { runtimeError, StatesError } from './errors';
import { AbortReason, type Frame, isPromise, newFrame, type RedriveSource, type ScopeCheckpoint } from './frame';
import { type EventListener, HistoryRecorder, NOT_TRUNCATED } from './history';
import { exceedsPayloadLimit, PAYLOAD_LIMIT_BYTES, toJsonText, utf8Length } from './json';
import { ResultOf } from './result';
import { stateError } from './retry';
import type { ExecutionContext, Maybe, StateRun, Step } from './state-run';
import { runStateHandler } from './states';
import { TokenWaiter } from './task-support';
import type { HandlerRegistry, TaskTokens } from './tasks';
import type { ExecutionResult, ExecutionStatus, JsonObject, JsonValue } from './types';
import { VariableScope } from './variables';

export { AbortReason, type ChildrenCheckpoint, type RedriveSource, type ScopeCheckpoint } from './frame';

/** Activities without a handler wait here for a worker (GetActivityTask). */
export interface ActivityQueue {
  enqueue(
    activityArn: string,
    task: { token: string; input: JsonValue; started: (workerName: string) => void; signal: AbortSignal },
  ): void;
}

export interface ExecutionConfig {
  readonly machine: CompiledStateMachine;
  readonly input: JsonValue;
  readonly executionArn: string;
  readonly name: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly roleArn: string;
  readonly region: string;
  readonly clock: Clock;
  readonly handlers: HandlerRegistry;
  readonly tokens: TaskTokens;
  readonly activities: ActivityQueue | undefined;
  readonly listener: (() => EventListener | undefined) | undefined;
  readonly maxHistoryEvents: number;
  /** Continue a failed execution (RedriveExecution): the checkpoint of where it failed. */
  readonly redrive?: RedriveSource;
}

/** What a state hands on to the scope: its output and the next state. */
type Outcome = Step;

const YIELD_EVERY = 1000;

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * One execution of a state machine: its lifecycle (start, stop, timeout, its end), the frames that run states
 * (the machine, Parallel branches, Map iterations) and its history. What each state does is in `states/`, Retry
 * and Catch in `retry.ts`, input and output processing in `io/`. States that need no waiting (Pass, Choice, ...
 * in JSONPath) run synchronously one after the other; the interpreter only goes through promises when a state
 * has to wait.
 */
export class Execution implements ExecutionContext {
  public status: ExecutionStatus = 'RUNNING';
  public readonly startDate: Date;
  public stopDate: Date | undefined;
  public output: JsonValue | undefined;
  public error: string | undefined;
  public cause: string | undefined;
  public readonly history: HistoryRecorder;
  /** Where the execution stopped when it failed, timed out or was aborted (RedriveExecution restarts there). */
  public checkpoint: ScopeCheckpoint | undefined;
  public readonly redriveCount: number;
  public readonly done: Promise<ExecutionResult>;

  private readonly controller = new CancelScope();
  private readonly execContext: JsonObject;
  private readonly smContext: JsonObject;
  private transitions = 0;
  private resolveDone!: (r: ExecutionResult) => void;
  private readonly liveTokens = new Set<string>();
  private root: Frame | undefined;
  /** An execution continued from a history that stops mid-run: the Waits it stood in (continuation.ts). */
  private readonly openWaits: OpenWaits | undefined;

  public constructor(public readonly config: ExecutionConfig) {
    const clock = config.clock;
    this.redriveCount = config.redrive ? config.redrive.redriveCount : 0;
    this.startDate = config.redrive ? config.redrive.startDate : new Date(clock.now());
    this.history = new HistoryRecorder(() => clock.now(), config.listener, config.maxHistoryEvents);
    this.openWaits =
      config.redrive && interrupted(config.redrive.history) ? new OpenWaits(config.redrive.history) : undefined;
    this.execContext = {
      Id: config.executionArn,
      Input: config.input,
      Name: config.name,
      RoleArn: config.roleArn,
      StartTime: this.startDate.toISOString(),
      RedriveCount: this.redriveCount,
    };
    if (config.redrive) this.execContext['RedriveTime'] = isoTime(clock.now());
    this.smContext = { Id: config.stateMachineArn, Name: config.stateMachineName };
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  public get executionArn(): string {
    return this.config.executionArn;
  }

  public get input(): JsonValue {
    return this.config.input;
  }

  public get machine(): CompiledStateMachine {
    return this.config.machine;
  }

  /** Starts the execution; the returned promise is `done`. */
  public start(): Promise<ExecutionResult> {
    const { machine, redrive } = this.config;
    let last = 0;
    if (redrive) {
      this.history.adopt(redrive.history);
      const id = this.history.append('ExecutionRedriven', this.history.length, 'executionRedrivenEventDetails', {
        redriveCount: this.redriveCount,
      });
      last = id;
    } else {
      this.history.append(
        'ExecutionStarted',
        0,
        'executionStartedEventDetails',
        { inputDetails: NOT_TRUNCATED, roleArn: this.config.roleArn },
        'input',
        this.config.input,
      );
    }
    const resume = redrive?.checkpoint;
    const vars = new VariableScope(undefined, resume?.variables);
    const frame = newFrame(machine.root, vars, last, this.controller, undefined, true, resume);
    this.root = frame;
    if (machine.timeoutSeconds !== undefined) {
      this.config.clock
        .sleep(machine.timeoutSeconds * 1000, this.controller.signal)
        .then(() =>
          this.abort(
            new AbortReason(
              'timeout',
              'States.Timeout',
              `The execution timed out after ${machine.timeoutSeconds} seconds.`,
            ),
          ),
        )
        .catch(() => {});
    }
    // As StartExecution does, return first: the states run once the caller has the execution in hand.
    queueMicrotask(() => this.begin(frame, resume ? resume.input : this.config.input));
    return this.done;
  }

  private begin(frame: Frame, input: JsonValue): void {
    if (this.status !== 'RUNNING') return;
    let result: JsonValue | Promise<JsonValue>;
    try {
      result = this.runScope(frame, input);
    } catch (err) {
      this.finishWithError(err, frame);
      return;
    }
    if (isPromise<JsonValue>(result)) {
      result.then(
        (output) => this.finishWithOutput(output, frame),
        (err) => this.finishWithError(err, frame),
      );
    } else this.finishWithOutput(result, frame);
  }

  /** StopExecution: ends a running execution as ABORTED. */
  public stop(error?: string, cause?: string): boolean {
    if (this.status !== 'RUNNING') return false;
    this.abort(new AbortReason('stop', error, cause));
    return true;
  }

  private abort(reason: AbortReason): void {
    if (this.status !== 'RUNNING' || this.controller.aborted) return;
    this.controller.abort(reason);
    // Settle at once: work still in flight notices the abort and unwinds quietly.
    this.finishAborted(reason);
  }

  // ------------------------------------------------------------------------------------------------ ending

  private finishWithOutput(output: JsonValue, frame: Frame): void {
    if (this.status !== 'RUNNING') return;
    if (exceedsPayloadLimit(output)) {
      this.finishWithError(
        new StatesError(
          'States.DataLimitExceeded',
          'The execution output exceeds the maximum number of bytes service limit.',
          { terminal: true },
        ),
        frame,
      );
      return;
    }
    this.status = 'SUCCEEDED';
    this.output = output;
    this.history.append(
      'ExecutionSucceeded',
      frame.thread.last,
      'executionSucceededEventDetails',
      { outputDetails: NOT_TRUNCATED },
      'output',
      output,
    );
    this.settle();
  }

  private finishWithError(err: unknown, frame: Frame): void {
    if (this.status !== 'RUNNING') return;
    if (err instanceof AbortReason) {
      this.finishAborted(err);
      return;
    }
    const e =
      err instanceof StatesError
        ? err
        : new StatesError('States.Runtime', `Internal error: ${(err as Error)?.message ?? String(err)}`);
    this.status = 'FAILED';
    this.error = e.error;
    this.cause = e.cause;
    this.checkpoint = this.checkpointOf(frame);
    const details: Record<string, string> = {};
    if (e.error !== undefined) details['error'] = e.error;
    if (e.cause !== undefined) details['cause'] = e.cause;
    this.history.append('ExecutionFailed', frame.thread.last, 'executionFailedEventDetails', details);
    this.settle();
  }

  private finishAborted(reason: AbortReason): void {
    if (this.status !== 'RUNNING') return;
    const details: Record<string, string> = {};
    if (reason.error !== undefined) details['error'] = reason.error;
    if (reason.cause !== undefined) details['cause'] = reason.cause;
    this.error = reason.error;
    this.cause = reason.cause;
    this.checkpoint = this.root ? this.checkpointOf(this.root) : undefined;
    if (reason.kind === 'timeout') {
      this.status = 'TIMED_OUT';
      this.history.append('ExecutionTimedOut', 0, 'executionTimedOutEventDetails', details);
    } else {
      this.status = 'ABORTED';
      this.history.append('ExecutionAborted', 0, 'executionAbortedEventDetails', details);
    }
    this.settle();
  }

  private settle(): void {
    this.stopDate = new Date(this.config.clock.now());
    if (!this.controller.aborted) this.controller.abort(new AbortReason('cancel'));
    for (const token of this.liveTokens) this.config.tokens.retire(token);
    this.liveTokens.clear();
    this.resolveDone(this.result());
  }

  public result(): ExecutionResult {
    return new ResultOf(this);
  }

  public checkpointOf(frame: Frame): ScopeCheckpoint | undefined {
    if (frame.currentName === undefined) return undefined;
    const cp: { -readonly [K in keyof ScopeCheckpoint]: ScopeCheckpoint[K] } = {
      stateName: frame.currentName,
      input: frame.currentInput,
      variables: frame.currentVars as Readonly<JsonObject>,
    };
    if (frame.children) cp.children = frame.children;
    return cp;
  }

  // ------------------------------------------------------------------------------------------------ events

  public emit(
    frame: Frame,
    type: string,
    detailsKey?: string,
    details?: Record<string, unknown>,
    previous?: number,
    lazyKey?: string,
    lazyValue?: unknown,
  ): number {
    if (!frame.record || this.status !== 'RUNNING') return 0;
    this.checkHistoryRoom();
    const id = this.history.append(type, previous ?? frame.thread.last, detailsKey, details, lazyKey, lazyValue);
    frame.thread.last = id;
    return id;
  }

  /** AWS ends an execution whose history is full with States.Runtime. */
  private checkHistoryRoom(): void {
    if (!this.history.full()) return;
    throw new StatesError(
      'States.Runtime',
      `The execution reached the maximum number of events in its history (${this.history.limit}).`,
      { terminal: true },
    );
  }

  /** A StateEntered or StateExited event without assigned variables. */
  private emitState(frame: Frame, type: string, entered: boolean, name: string, value: JsonValue): number {
    if (!frame.record || this.status !== 'RUNNING') return 0;
    this.checkHistoryRoom();
    const id = this.history.appendState(type, frame.thread.last, entered, name, value);
    frame.thread.last = id;
    return id;
  }

  // ------------------------------------------------------------------------------------------------ scopes

  /** Runs the states of a scope from StartAt (or the redrive point) to the end; returns the last output. */
  public runScope(frame: Frame, input: JsonValue): Maybe<JsonValue> {
    let name = frame.resume ? frame.resume.stateName : frame.scope.startAt;
    let data = input;
    for (;;) {
      if (frame.signal.aborted) throw frame.signal.reason;
      const state = frame.scope.states.get(name) as CompiledState;
      const r = this.runState(state, data, frame);
      if (isPromise<Outcome>(r)) return this.continueScope(frame, r);
      if (r.next === undefined) return r.output;
      name = r.next;
      data = r.output;
      if (++this.transitions % YIELD_EVERY === 0) return this.resumeLater(frame, name, data);
    }
  }

  private async continueScope(frame: Frame, pending: Promise<Outcome>): Promise<JsonValue> {
    let r = await pending;
    for (;;) {
      if (r.next === undefined) return r.output;
      if (frame.signal.aborted) throw frame.signal.reason;
      const state = frame.scope.states.get(r.next) as CompiledState;
      const step = this.runState(state, r.output, frame);
      r = isPromise<Outcome>(step) ? await step : step;
      if (++this.transitions % YIELD_EVERY === 0) await this.yieldToOthers();
    }
  }

  /**
   * Lets other executions and I/O run before a long run of states continues. The execution is still running
   * meanwhile: the clock is told so, else a virtual clock that finds nothing busy in that turn of the event loop
   * would fire its earliest timer (the execution's own timeout, days away) in the middle of a run.
   */
  private yieldToOthers(): Promise<void> {
    return this.config.clock.busy(new Promise<void>((resolve) => setImmediate(resolve)));
  }

  private async resumeLater(frame: Frame, name: string, data: JsonValue): Promise<JsonValue> {
    await this.yieldToOthers();
    return this.continueScope(frame, Promise.resolve({ output: data, assigned: undefined, next: name }));
  }

  // ------------------------------------------------------------------------------------------------ states

  /** Enters a state, runs it by its type and exits it (or turns what it threw into the error that leaves it). */
  private runState(state: CompiledState, input: JsonValue, frame: Frame): Maybe<Outcome> {
    const enteredPrev = frame.thread.last;
    const enteredId = this.emitState(frame, eventTypes(state.type).entered, true, state.name, input);
    frame.currentName = state.name;
    frame.currentInput = input;
    frame.currentVars = frame.vars.snapshot();
    frame.children = undefined;
    const resumed = frame.resume?.stateName === state.name;
    const resumeChildren = resumed ? frame.resume?.children : undefined;
    frame.resume = undefined;
    // A Wait the execution stood in when it was interrupted ends at the end it had (continuation.ts).
    const waitSince =
      resumed && state.type === 'Wait' && this.openWaits ? this.openWaits.startedAt(state.name, input) : undefined;
    const run: StateRun = {
      state,
      frame,
      input,
      exec: this,
      enteredId,
      enteredPrev,
      enteredTime: this.config.clock.now(),
      retryCount: 0,
      token: undefined,
      resumeChildren,
      waitSince,
    };
    try {
      const r = runStateHandler(run);
      if (isPromise<Step>(r)) {
        return r.then(
          (step) => {
            try {
              return this.exit(run, step);
            } catch (err) {
              return this.failState(run, err);
            }
          },
          (err) => this.failState(run, err),
        );
      }
      return this.exit(run, r);
    } catch (err) {
      return this.failState(run, err);
    }
  }

  private failState(run: StateRun, err: unknown): never {
    if (err instanceof AbortReason) throw err;
    throw stateError(run, err);
  }

  /** Leaves a state: checks its output, applies its assignments, records StateExited. */
  private exit(run: StateRun, step: Step): Outcome {
    const { frame, state } = run;
    const { output, assigned } = step;
    if (exceedsPayloadLimit(output)) {
      throw new StatesError(
        'States.DataLimitExceeded',
        `The state/task '${state.name}' returned a result with a size exceeding the maximum number of bytes service limit.`,
        { terminal: true },
      );
    }
    if (assigned && Object.keys(assigned).length > 0) {
      const texts: Record<string, string> = {};
      let size = 0;
      for (const [k, v] of Object.entries(assigned)) {
        if (frame.vars.outerDeclares(k)) {
          throw runtimeError(
            `Cannot bind value '${toJsonText(v)}' to variable '${k}' as it belongs to an outer scope.`,
          );
        }
        texts[k] = toJsonText(v);
        size += utf8Length(texts[k]);
      }
      if (size > PAYLOAD_LIMIT_BYTES) {
        throw new StatesError(
          'States.DataLimitExceeded',
          `The variables assigned by the state '${state.name}' exceed the maximum number of bytes service limit.`,
          { terminal: true },
        );
      }
      frame.vars.assign(assigned);
      const details: Record<string, unknown> = {
        name: state.name,
        outputDetails: NOT_TRUNCATED,
        assignedVariables: texts,
        assignedVariablesDetails: NOT_TRUNCATED,
      };
      this.emit(frame, eventTypes(state.type).exited, 'stateExitedEventDetails', details, undefined, 'output', output);
    } else this.emitState(frame, eventTypes(state.type).exited, false, state.name, output);
    return step;
  }

  /** The context object (`$$`, `$states.context`) of a state in progress. */
  public contextObject(run: StateRun, mapItem: JsonObject | undefined = run.frame.mapItem): JsonObject {
    const ctx: JsonObject = {
      Execution: this.execContext,
      StateMachine: this.smContext,
      State: { Name: run.state.name, EnteredTime: isoTime(run.enteredTime) },
    };
    const s = run.state;
    if (s.type === 'Task' || s.type === 'Parallel' || s.type === 'Map')
      (ctx['State'] as JsonObject)['RetryCount'] = run.retryCount;
    if (mapItem) ctx['Map'] = { Item: mapItem };
    if (run.token !== undefined) ctx['Task'] = { Token: run.token };
    return ctx;
  }

  // ------------------------------------------------------------------------------------------------ tokens

  public issueToken(run: StateRun): { token: string; waiter: TokenWaiter } {
    const waiter = new TokenWaiter();
    const token = this.config.tokens.issue(waiter);
    this.liveTokens.add(token);
    waiter.executionArn = this.config.executionArn;
    run.token = token;
    return { token, waiter };
  }

  public retireToken(token: string | undefined): void {
    if (token === undefined) return;
    this.config.tokens.retire(token);
    this.liveTokens.delete(token);
  }
}

const EVENT_TYPES = new Map<string, { entered: string; exited: string }>();

/** `PassStateEntered` / `PassStateExited` and the like, made once per state type. */
function eventTypes(stateType: string): { entered: string; exited: string } {
  let t = EVENT_TYPES.get(stateType);
  if (!t) {
    t = { entered: `${stateType}StateEntered`, exited: `${stateType}StateExited` };
    EVENT_TYPES.set(stateType, t);
  }
  return t;
}
