import { CancelScope } from './cancel';
import { parseTimestamp } from './choice';
import type { Clock } from './clock';
import type {
  Catcher,
  ChoiceState,
  CompiledScope,
  CompiledState,
  CompiledStateMachine,
  FailField,
  FailState,
  MapState,
  NumberSpec,
  ParallelState,
  PassState,
  ResultPathSpec,
  Retrier,
  SucceedState,
  TaskState,
  WaitState,
} from './compile';
import { queryError, runtimeError, StatesError, TaskFailure } from './errors';
import {
  AbortReason,
  type ChildrenCheckpoint,
  type Frame,
  isPromise,
  type RedriveSource,
  type ScopeCheckpoint,
  type Thread,
} from './frame';
import { type EventListener, HistoryRecorder, NOT_TRUNCATED } from './history';
import { exceedsPayloadLimit, isObject, PAYLOAD_LIMIT_BYTES, toJsonText, toJsonValue, utf8Length } from './json';
import type { StatesBinding } from './jsonata';
import { bracketNotation, type CompiledPath, NOT_FOUND, setAtPath } from './jsonpath';
import { MapRun } from './map-run';
import type { ParsedResource } from './resources';
import { ResultOf } from './result';
import { eventNames, TimedOut, TokenWaiter, taskError } from './task-support';
import type { HandlerRegistry, TaskRequest, TaskTokens } from './tasks';
import {
  type AtaEnv,
  type AtaTemplate,
  evaluateAtaTemplate,
  evaluateDynamic,
  evaluatePathTemplate,
  type PathEnv,
  resolvePath,
} from './templates';
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

/** A state in progress. */
interface StateRun {
  readonly state: CompiledState;
  readonly frame: Frame;
  readonly input: JsonValue;
  readonly enteredId: number;
  readonly enteredPrev: number;
  readonly enteredTime: number;
  retryCount: number;
  token: string | undefined;
  /** Redrive of a Parallel or Map state: the children that already succeeded and where the others stopped. */
  resumeChildren: ChildrenCheckpoint | undefined;
}

interface Outcome {
  readonly output: JsonValue;
  readonly next: string | undefined;
}

/** An assignment computed by a state, applied when the state exits. */
type Assigned = JsonObject | undefined;

const YIELD_EVERY = 1000;

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * One execution of a state machine: runs its states, records its history and ends in SUCCEEDED, FAILED,
 * TIMED_OUT or ABORTED. States that need no waiting (Pass, Choice, ... in JSONPath) run synchronously one after
 * the other; the interpreter only goes through promises when a state has to wait.
 */
export class Execution {
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

  public constructor(private readonly config: ExecutionConfig) {
    const clock = config.clock;
    this.redriveCount = config.redrive ? config.redrive.redriveCount : 0;
    this.startDate = config.redrive ? config.redrive.startDate : new Date(clock.now());
    this.history = new HistoryRecorder(() => clock.now(), config.listener, config.maxHistoryEvents);
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
    let rootThread: Thread = { last: 0 };
    if (redrive) {
      this.history.adopt(redrive.history);
      const id = this.history.append('ExecutionRedriven', this.history.length, 'executionRedrivenEventDetails', {
        redriveCount: this.redriveCount,
      });
      rootThread = { last: id };
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
    const frame: Frame = {
      scope: machine.root,
      vars: new VariableScope(undefined, resume?.variables),
      thread: rootThread,
      signal: this.controller,
      mapItem: undefined,
      record: true,
      currentName: undefined,
      currentInput: null,
      currentVars: undefined,
      children: undefined,
      resume,
    };
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

  private checkpointOf(frame: Frame): ScopeCheckpoint | undefined {
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

  private emit(
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
  private runScope(frame: Frame, input: JsonValue): JsonValue | Promise<JsonValue> {
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
      if (++this.transitions % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Lets other executions and I/O run before a long synchronous run of states continues. */
  private async resumeLater(frame: Frame, name: string, data: JsonValue): Promise<JsonValue> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return this.continueScope(frame, Promise.resolve({ output: data, next: name }));
  }

  // ------------------------------------------------------------------------------------------------ states

  private runState(state: CompiledState, input: JsonValue, frame: Frame): Outcome | Promise<Outcome> {
    const enteredPrev = frame.thread.last;
    const enteredId = this.emitState(frame, eventTypes(state.type).entered, true, state.name, input);
    frame.currentName = state.name;
    frame.currentInput = input;
    frame.currentVars = frame.vars.snapshot();
    frame.children = undefined;
    const resumeChildren = frame.resume?.stateName === state.name ? frame.resume.children : undefined;
    frame.resume = undefined;
    const run: StateRun = {
      state,
      frame,
      input,
      enteredId,
      enteredPrev,
      enteredTime: this.config.clock.now(),
      retryCount: 0,
      token: undefined,
      resumeChildren,
    };
    try {
      const r = this.dispatch(run);
      if (isPromise<Outcome>(r)) return r.catch((err) => this.failState(run, err));
      return r;
    } catch (err) {
      return this.failState(run, err);
    }
  }

  private dispatch(run: StateRun): Outcome | Promise<Outcome> {
    const s = run.state;
    switch (s.type) {
      case 'Pass':
        return s.ql === 'JSONPath' ? this.passPath(s, run) : this.passAta(s, run);
      case 'Choice':
        return s.ql === 'JSONPath' ? this.choicePath(s, run) : this.choiceAta(s, run);
      case 'Succeed':
        return s.ql === 'JSONPath' ? this.succeedPath(s, run) : this.succeedAta(s, run);
      case 'Fail':
        return this.fail(s, run);
      case 'Wait':
        return this.wait(s, run);
      case 'Task':
      case 'Parallel':
      case 'Map':
        return this.withRetry(s, run);
    }
  }

  /** Turns what a state threw into the error that leaves it (with AWS's prefix on evaluation errors). */
  private failState(run: StateRun, err: unknown): never {
    if (err instanceof AbortReason) throw err;
    throw this.asStatesError(run, err);
  }

  private asStatesError(run: StateRun, err: unknown): StatesError {
    if (err instanceof AbortReason) throw err;
    if (!(err instanceof StatesError)) {
      return new StatesError(
        'States.Runtime',
        `An error occurred while executing the state '${run.state.name}' (entered at the event id #${run.enteredId}). ${(err as Error)?.message ?? String(err)}`,
      );
    }
    if (!err.fromEvaluation) return err;
    const cause = `An error occurred while executing the state '${run.state.name}' (entered at the event id #${run.enteredId}). ${err.cause ?? ''}`;
    if (err.location !== undefined) {
      this.emit(
        run.frame,
        'EvaluationFailed',
        'evaluationFailedEventDetails',
        {
          cause,
          error: err.error,
          location: err.location,
          state: run.state.name,
        },
        run.enteredPrev,
      );
    }
    return new StatesError(err.error, cause, { terminal: err.terminal });
  }

  private exit(run: StateRun, output: JsonValue, assigned: Assigned, next: string | undefined): Outcome {
    const { frame, state } = run;
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
    return { output, next };
  }

  // --------------------------------------------------------------------------------- JSONPath processing

  private context(run: StateRun): JsonObject {
    const ctx: JsonObject = {
      Execution: this.execContext,
      StateMachine: this.smContext,
      State: { Name: run.state.name, EnteredTime: isoTime(run.enteredTime) },
    };
    const s = run.state;
    if (s.type === 'Task' || s.type === 'Parallel' || s.type === 'Map')
      (ctx['State'] as JsonObject)['RetryCount'] = run.retryCount;
    if (run.frame.mapItem) ctx['Map'] = { Item: run.frame.mapItem };
    if (run.token !== undefined) ctx['Task'] = { Token: run.token };
    return ctx;
  }

  private pathEnv(run: StateRun, input: JsonValue): PathEnv {
    return new StatePathEnv(this, run, input);
  }

  /** The context object (`$$`) of a state in progress. */
  public contextOf(run: StateRun): JsonObject {
    return this.context(run);
  }

  private inputPath(run: StateRun): JsonValue {
    const p = run.state.inputPath;
    if (p === undefined) return run.input;
    if (p === null) return {};
    return this.requirePath(p, this.pathEnv(run, run.input));
  }

  private outputPath(run: StateRun, value: JsonValue): JsonValue {
    const p = run.state.outputPath;
    if (p === undefined) return value;
    if (p === null) return {};
    return this.requirePath(p, this.pathEnv(run, value));
  }

  private requirePath(p: CompiledPath, env: PathEnv): JsonValue {
    const v = resolvePath(p, env);
    if (v === NOT_FOUND) throw runtimeError(`Invalid path '${p.text}' : No results for path: ${bracketNotation(p)}`);
    return v;
  }

  private resultPath(spec: ResultPathSpec, input: JsonValue, result: JsonValue): JsonValue {
    if (spec.kind === 'replace') return result;
    if (spec.kind === 'discard') return input;
    const out = setAtPath(input, spec.segments, result);
    if (out === undefined) {
      throw new StatesError(
        'States.ResultPathMatchFailure',
        `Unable to apply ResultPath "${spec.text}" to input "${toJsonText(input)}"`,
      );
    }
    return out;
  }

  private assignPath(run: StateRun, template: CompiledState['assignPath'], value: JsonValue): Assigned {
    if (!template) return undefined;
    return evaluatePathTemplate(template, this.pathEnv(run, value)) as JsonObject;
  }

  private numberFromPath(
    run: StateRun,
    spec: NumberSpec | undefined,
    doc: JsonValue,
    kind: 'integer' | 'float',
  ): number | undefined {
    if (!spec) return undefined;
    if (spec.kind === 'literal') return spec.value;
    if (spec.kind === 'jsonata') throw new Error('JSONata number in a JSONPath state');
    const v = resolvePath(spec.path, this.pathEnv(run, doc));
    if (v === NOT_FOUND)
      throw runtimeError(`Invalid path '${spec.path.text}' : No results for path: ${bracketNotation(spec.path)}`);
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
    if (!Number.isFinite(n) || (kind === 'integer' && !Number.isInteger(n))) {
      throw runtimeError(
        `The ${spec.field} field refers to value "${typeof v === 'string' ? v : toJsonText(v)}" which is not a valid ${kind}: ${spec.path.text}`,
      );
    }
    return n;
  }

  // --------------------------------------------------------------------------------- JSONata processing

  private ataEnv(run: StateRun, extra: { result?: JsonValue; errorOutput?: JsonValue } = {}): AtaEnv {
    const states: { -readonly [K in keyof StatesBinding]: StatesBinding[K] } = {
      input: run.input,
      context: run.state.usesContext ? this.context(run) : {},
    };
    if (extra.result !== undefined) states.result = extra.result;
    if (extra.errorOutput !== undefined) states.errorOutput = extra.errorOutput;
    return { states, vars: run.frame.vars };
  }

  private async ataValue(template: AtaTemplate | undefined, env: AtaEnv, dflt: JsonValue): Promise<JsonValue> {
    if (!template) return dflt;
    return evaluateAtaTemplate(template, env);
  }

  private async ataNumber(
    run: StateRun,
    spec: NumberSpec | undefined,
    env: AtaEnv,
    kind: 'integer' | 'float',
    min: number,
  ): Promise<number | undefined> {
    if (!spec) return undefined;
    if (spec.kind === 'literal') return spec.value;
    if (spec.kind === 'path') return this.numberFromPath(run, spec, run.input, kind);
    const v = await evaluateAtaTemplate(spec.template, env);
    if (typeof v !== 'number' || (kind === 'integer' && !Number.isInteger(v)) || v < min) {
      throw queryError(
        `The JSONata expression specified for the field '${spec.field}' returned ${toJsonText(v)}, which is not a valid ${kind === 'integer' ? 'non-negative integer' : 'number'}.`,
        spec.field,
      );
    }
    return v;
  }

  // --------------------------------------------------------------------------------------------- Pass

  private passPath(s: PassState, run: StateRun): Outcome {
    let effective = this.inputPath(run);
    if (s.parameters) effective = evaluatePathTemplate(s.parameters, this.pathEnv(run, effective));
    const result = s.result !== undefined ? s.result : effective;
    const assigned = this.assignPath(run, s.assignPath, result);
    const output = this.outputPath(run, this.resultPath(s.resultPath, run.input, result));
    return this.exit(run, output, assigned, s.next);
  }

  private async passAta(s: PassState, run: StateRun): Promise<Outcome> {
    const env = this.ataEnv(run);
    const output = await this.ataValue(s.output, env, s.result !== undefined ? s.result : run.input);
    const assigned = s.assignAta ? ((await evaluateAtaTemplate(s.assignAta, env)) as JsonObject) : undefined;
    return this.exit(run, output, assigned, s.next);
  }

  // --------------------------------------------------------------------------------------------- Succeed

  private succeedPath(_s: SucceedState, run: StateRun): Outcome {
    const output = this.outputPath(run, this.inputPath(run));
    return this.exit(run, output, undefined, undefined);
  }

  private async succeedAta(s: SucceedState, run: StateRun): Promise<Outcome> {
    const output = await this.ataValue(s.output, this.ataEnv(run), run.input);
    return this.exit(run, output, undefined, undefined);
  }

  // --------------------------------------------------------------------------------------------- Choice

  private choicePath(s: ChoiceState, run: StateRun): Outcome {
    const effective = this.inputPath(run);
    const env = this.pathEnv(run, effective);
    for (const rule of s.choices) {
      if ((rule.predicate as (e: PathEnv) => boolean)(env)) {
        const assigned = this.assignPath(run, rule.assignPath, effective);
        return this.exit(run, this.outputPath(run, effective), assigned, rule.next);
      }
    }
    if (s.default === undefined)
      throw new StatesError(
        'States.NoChoiceMatched',
        `No Matches! The choice state '${s.name}' matched no rule and has no Default.`,
      );
    const assigned = this.assignPath(run, s.assignPath, effective);
    return this.exit(run, this.outputPath(run, effective), assigned, s.default);
  }

  private async choiceAta(s: ChoiceState, run: StateRun): Promise<Outcome> {
    const env = this.ataEnv(run);
    for (const rule of s.choices) {
      const c = await evaluateAtaTemplate(rule.condition as AtaTemplate, env);
      if (typeof c !== 'boolean') {
        throw queryError(
          `The Condition of a choice rule must evaluate to a boolean, got ${toJsonText(c)}.`,
          'Condition',
        );
      }
      if (c) {
        const output = await this.ataValue(rule.output, env, run.input);
        const assigned = rule.assignAta ? ((await evaluateAtaTemplate(rule.assignAta, env)) as JsonObject) : undefined;
        return this.exit(run, output, assigned, rule.next);
      }
    }
    if (s.default === undefined)
      throw new StatesError(
        'States.NoChoiceMatched',
        `No Matches! The choice state '${s.name}' matched no rule and has no Default.`,
      );
    const output = await this.ataValue(s.output, env, run.input);
    const assigned = s.assignAta ? ((await evaluateAtaTemplate(s.assignAta, env)) as JsonObject) : undefined;
    return this.exit(run, output, assigned, s.default);
  }

  // --------------------------------------------------------------------------------------------- Wait

  private async wait(s: WaitState, run: StateRun): Promise<Outcome> {
    let effective = run.input;
    let ms: number;
    let env: AtaEnv | undefined;
    if (s.ql === 'JSONPath') {
      effective = this.inputPath(run);
      ms = this.waitMillis(run, s, effective);
    } else {
      env = this.ataEnv(run);
      ms = await this.waitMillisAta(run, s, env);
    }
    if (ms > 0 || this.config.clock.mode === 'virtual') await this.config.clock.sleep(ms, run.frame.signal.signal);
    if (s.ql === 'JSONPath') {
      const assigned = this.assignPath(run, s.assignPath, effective);
      return this.exit(run, this.outputPath(run, effective), assigned, s.next);
    }
    const e = env as AtaEnv;
    const output = await this.ataValue(s.output, e, run.input);
    const assigned = s.assignAta ? ((await evaluateAtaTemplate(s.assignAta, e)) as JsonObject) : undefined;
    return this.exit(run, output, assigned, s.next);
  }

  private waitMillis(run: StateRun, s: WaitState, effective: JsonValue): number {
    if (s.seconds) {
      const n = this.numberFromPath(run, s.seconds, effective, 'integer') as number;
      if (n < 0) throw runtimeError(`The SecondsPath parameter references a negative value: ${n}`);
      return n * 1000;
    }
    const ts = s.timestamp;
    if (!ts) return 0;
    let text: JsonValue;
    if (ts.kind === 'literal') text = ts.value;
    else {
      text = this.requirePath((ts as { path: CompiledPath }).path, this.pathEnv(run, effective));
    }
    const t = parseTimestamp(text);
    if (t === undefined) {
      throw runtimeError(
        `The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${typeof text === 'string' ? text : toJsonText(text)}`,
      );
    }
    return Math.max(0, t - this.config.clock.now());
  }

  private async waitMillisAta(run: StateRun, s: WaitState, env: AtaEnv): Promise<number> {
    if (s.seconds) {
      const n = (await this.ataNumber(run, s.seconds, env, 'integer', 0)) as number;
      return n * 1000;
    }
    const ts = s.timestamp;
    if (!ts) return 0;
    const text =
      ts.kind === 'literal' ? ts.value : await evaluateAtaTemplate((ts as { template: AtaTemplate }).template, env);
    const t = parseTimestamp(text);
    if (t === undefined) {
      throw queryError(
        `The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: ${typeof text === 'string' ? text : toJsonText(text)}`,
        'Timestamp',
      );
    }
    return Math.max(0, t - this.config.clock.now());
  }

  // --------------------------------------------------------------------------------------------- Fail

  private fail(s: FailState, run: StateRun): Outcome | Promise<Outcome> {
    if (s.ql === 'JSONata' && (s.error?.kind === 'jsonata' || s.cause?.kind === 'jsonata')) {
      return (async () => {
        const env = this.ataEnv(run);
        const error = await this.failFieldAta(s.error, env, 'Error');
        const cause = await this.failFieldAta(s.cause, env, 'Cause');
        throw new StatesError(error as string, cause);
      })();
    }
    const error = this.failFieldPath(run, s.error);
    const cause = this.failFieldPath(run, s.cause);
    throw new StatesError(error as string, cause);
  }

  private failFieldPath(run: StateRun, f: FailField | undefined): string | undefined {
    if (!f) return undefined;
    if (f.kind === 'literal') return f.value;
    if (f.kind === 'jsonata') return undefined;
    const v = evaluateDynamic(f.value, this.pathEnv(run, run.input));
    if (v === NOT_FOUND) {
      const text = f.value.kind === 'path' ? f.value.path.text : '';
      throw runtimeError(
        `The JSONPath '${text}' specified for the field '${f.field}' could not be found in the input '${toJsonText(run.input)}'`,
      );
    }
    if (typeof v !== 'string') {
      throw runtimeError(`The ${f.field} field must reference a string, but it references ${toJsonText(v)}`);
    }
    return v;
  }

  private async failFieldAta(f: FailField | undefined, env: AtaEnv, field: string): Promise<string | undefined> {
    if (!f) return undefined;
    if (f.kind === 'literal') return f.value;
    if (f.kind !== 'jsonata') return undefined;
    const v = await evaluateAtaTemplate(f.template, env);
    if (typeof v !== 'string')
      throw queryError(`The ${field} field must evaluate to a string, got ${toJsonText(v)}.`, field);
    return v;
  }

  // --------------------------------------------------------------------------------- Retry and Catch

  /**
   * Whether a Retrier's or Catcher's ErrorEquals matches an error, as the guide's "error names" define it:
   * States.ALL matches every (non-terminal) error; States.Timeout matches a Task past TimeoutSeconds and one that
   * missed its heartbeat (both are States.Timeout); States.HeartbeatTimeout only the latter; States.TaskFailed any
   * error but States.Timeout, so neither kind of timeout. Any other name matches itself.
   */
  private static matches(errorEquals: readonly string[], e: StatesError): boolean {
    for (const name of errorEquals) {
      if (name === e.error) return true;
      if (name === 'States.ALL') return true;
      if (name === 'States.HeartbeatTimeout' && e.heartbeatTimeout) return true;
      if (name === 'States.TaskFailed' && e.error !== 'States.Timeout') return true;
    }
    return false;
  }

  /** Task, Parallel and Map: runs attempts under the state's Retry, then its Catch. */
  private async withRetry(s: TaskState | ParallelState | MapState, run: StateRun): Promise<Outcome> {
    const counts = new Array<number>(s.retry.length).fill(0);
    for (;;) {
      let failure: StatesError;
      try {
        return await this.attempt(s, run);
      } catch (err) {
        if (err instanceof AbortReason) {
          if (err.kind === 'cancel' && run.frame.record) {
            this.emit(run.frame, `${s.type}StateAborted`);
          }
          throw err;
        }
        failure = this.asStatesError(run, err);
      }
      if (failure.terminal) throw failure;
      const i = s.retry.findIndex((r) => Execution.matches(r.errorEquals, failure));
      const retrier = i >= 0 ? (s.retry[i] as Retrier) : undefined;
      if (retrier && (counts[i] as number) < retrier.maxAttempts) {
        const delay = this.retryDelay(retrier, counts[i] as number);
        counts[i] = (counts[i] as number) + 1;
        run.retryCount++;
        await this.config.clock.sleep(delay, run.frame.signal.signal);
        continue;
      }
      if (s.type !== 'Task') this.emit(run.frame, `${s.type}StateFailed`);
      const catcher = s.catch.find((c) => Execution.matches(c.errorEquals, failure));
      if (!catcher) throw failure;
      return this.caught(run, catcher, failure);
    }
  }

  private retryDelay(r: Retrier, count: number): number {
    let seconds = r.intervalSeconds * r.backoffRate ** count;
    if (r.maxDelaySeconds !== undefined) seconds = Math.min(seconds, r.maxDelaySeconds);
    if (r.jitter === 'FULL') seconds = Math.random() * seconds;
    return Math.round(seconds * 1000);
  }

  private async caught(run: StateRun, c: Catcher, e: StatesError): Promise<Outcome> {
    const errorOutput: JsonObject = { Error: e.error };
    if (e.cause !== undefined) errorOutput['Cause'] = e.cause;
    if (run.state.ql === 'JSONPath') {
      const assigned = this.assignPath(run, c.assignPath, errorOutput);
      const output = this.resultPath(c.resultPath, run.input, errorOutput);
      return this.exit(run, output, assigned, c.next);
    }
    const env = this.ataEnv(run, { errorOutput });
    const output = await this.ataValue(c.output, env, errorOutput);
    const assigned = c.assignAta ? ((await evaluateAtaTemplate(c.assignAta, env)) as JsonObject) : undefined;
    return this.exit(run, output, assigned, c.next);
  }

  /** One attempt of a Task, Parallel or Map state, from its input to its exit. */
  private async attempt(s: TaskState | ParallelState | MapState, run: StateRun): Promise<Outcome> {
    run.frame.children = undefined;
    try {
      return await this.attemptOnce(s, run);
    } finally {
      this.retireToken(run.token);
      run.token = undefined;
    }
  }

  private async attemptOnce(s: TaskState | ParallelState | MapState, run: StateRun): Promise<Outcome> {
    if (s.type === 'Map') return this.map(s, run);
    if (s.ql === 'JSONPath') {
      const effective = this.inputPath(run);
      const prepared = s.type === 'Task' ? this.prepareToken(s, run) : undefined;
      const args = s.parameters ? evaluatePathTemplate(s.parameters, this.pathEnv(run, effective)) : effective;
      this.checkSize(args, s.name);
      let result = s.type === 'Task' ? await this.task(s, run, args, prepared) : await this.parallel(s, run, args);
      if (s.resultSelector) result = evaluatePathTemplate(s.resultSelector, this.pathEnv(run, result));
      const assigned = this.assignPath(run, s.assignPath, result);
      const output = this.outputPath(run, this.resultPath(s.resultPath, run.input, result));
      return this.exit(run, output, assigned, s.next);
    }
    const prepared = s.type === 'Task' ? this.prepareToken(s, run) : undefined;
    const env = this.ataEnv(run);
    const args = await this.ataValue(s.args, env, run.input);
    this.checkSize(args, s.name);
    const result = s.type === 'Task' ? await this.task(s, run, args, prepared) : await this.parallel(s, run, args);
    const after = this.ataEnv(run, { result });
    const output = await this.ataValue(s.output, after, result);
    const assigned = s.assignAta ? ((await evaluateAtaTemplate(s.assignAta, after)) as JsonObject) : undefined;
    return this.exit(run, output, assigned, s.next);
  }

  private checkSize(value: JsonValue, stateName: string): void {
    if (exceedsPayloadLimit(value)) {
      throw new StatesError(
        'States.DataLimitExceeded',
        `The input of the state '${stateName}' after its Parameters or Arguments exceeds the maximum number of bytes service limit.`,
        { terminal: true },
      );
    }
  }

  // --------------------------------------------------------------------------------------------- Task

  private prepareToken(s: TaskState, run: StateRun): { token: string; waiter: TokenWaiter } | undefined {
    if (s.resource.pattern !== 'WAIT_FOR_TASK_TOKEN') return undefined;
    const waiter = new TokenWaiter();
    const token = this.config.tokens.issue(waiter);
    this.liveTokens.add(token);
    waiter.executionArn = this.config.executionArn;
    run.token = token;
    return { token, waiter };
  }

  private retireToken(token: string | undefined): void {
    if (token === undefined) return;
    this.config.tokens.retire(token);
    this.liveTokens.delete(token);
  }

  private async task(
    s: TaskState,
    run: StateRun,
    args: JsonValue,
    prepared: { token: string; waiter: TokenWaiter } | undefined,
  ): Promise<JsonValue> {
    const { frame } = run;
    const r = s.resource;
    const env = s.ql === 'JSONata' ? this.ataEnv(run) : undefined;
    const timeout =
      s.ql === 'JSONPath'
        ? this.numberFromPath(run, s.timeout, run.input, 'integer')
        : await this.ataNumber(run, s.timeout, env as AtaEnv, 'integer', 1);
    const heartbeat =
      s.ql === 'JSONPath'
        ? this.numberFromPath(run, s.heartbeat, run.input, 'integer')
        : await this.ataNumber(run, s.heartbeat, env as AtaEnv, 'integer', 1);
    const names = eventNames(r);
    if (r.kind === 'service') {
      const details: Record<string, unknown> = {
        resourceType: r.resourceType,
        resource: r.resource,
        region: this.config.region,
      };
      if (timeout !== undefined) details['timeoutInSeconds'] = timeout;
      if (heartbeat !== undefined) details['heartbeatInSeconds'] = heartbeat;
      this.emit(frame, names.scheduled, names.scheduledKey, details, undefined, 'parameters', args);
    } else {
      const details: Record<string, unknown> = { resource: r.arn, inputDetails: NOT_TRUNCATED };
      if (timeout !== undefined) details['timeoutInSeconds'] = timeout;
      if (heartbeat !== undefined && r.kind === 'activity') details['heartbeatInSeconds'] = heartbeat;
      this.emit(frame, names.scheduled, names.scheduledKey, details, undefined, 'input', args);
    }
    const taskDetails = (extra: Record<string, unknown>): Record<string, unknown> =>
      r.kind === 'service' ? { resourceType: r.resourceType, resource: r.resource, ...extra } : extra;

    const ac = CancelScope.childOf(frame.signal);
    const signal = ac.signal;
    const handler = this.config.handlers.find(r.arn, r.base);
    const token = prepared?.token;
    try {
      const result = await new Promise<JsonValue>((resolve, reject) => {
        let settled = false;
        const settle = (fn: () => void): void => {
          if (settled) return;
          settled = true;
          fn();
        };
        ac.onAbort(() => settle(() => reject(ac.reason)));
        const clock = this.config.clock;
        if (timeout !== undefined) {
          clock
            .sleep(timeout * 1000, signal)
            .then(() => settle(() => reject(new TimedOut(`The task timed out after ${timeout} seconds.`, false))))
            .catch(() => {});
        }
        let heartbeatTimer: AbortController | undefined;
        // Heartbeats apply to tasks that wait for a token (callbacks and activities), as on AWS.
        const beat = (): void => {
          if (heartbeat === undefined || settled || r.pattern !== 'WAIT_FOR_TASK_TOKEN') return;
          heartbeatTimer?.abort();
          heartbeatTimer = new AbortController();
          clock
            .sleep(heartbeat * 1000, AbortSignal.any([signal, heartbeatTimer.signal]))
            .then(() => settle(() => reject(new TimedOut(`No heartbeat was received for ${heartbeat} seconds.`, true))))
            .catch(() => {});
        };
        const succeed = (v: unknown): void => settle(() => resolve(toJsonValue(v)));
        const failWith = (e: unknown): void => settle(() => reject(e));

        if (prepared) {
          prepared.waiter.bind(succeed, failWith, beat);
        }
        const started = (workerName?: string): void => {
          if (settled) return;
          if (r.kind === 'activity')
            this.emit(frame, 'ActivityStarted', 'activityStartedEventDetails', { workerName: workerName ?? 'local' });
          else if (r.kind === 'lambda') this.emit(frame, 'LambdaFunctionStarted');
          else this.emit(frame, 'TaskStarted', 'taskStartedEventDetails', taskDetails({}));
          beat();
        };

        if (!handler) {
          if (r.kind === 'activity' && this.config.activities && token) {
            this.config.activities.enqueue(r.arn, { token, input: args, started: (w) => started(w), signal });
            return;
          }
          started();
          failWith(this.unknownResource(r, args));
          return;
        }
        started();
        let submittedReported = false;
        const request: TaskRequest = {
          resource: r.arn,
          baseResource: r.base,
          pattern: r.pattern,
          input: args,
          taskToken: token,
          timeoutSeconds: timeout,
          heartbeatSeconds: heartbeat,
          signal,
          heartbeat: beat,
          sleep: (ms: number) => this.config.clock.sleep(ms),
          submitted: (response: unknown) => {
            if (settled || submittedReported) return;
            submittedReported = true;
            this.emit(
              frame,
              'TaskSubmitted',
              'taskSubmittedEventDetails',
              taskDetails({ outputDetails: NOT_TRUNCATED }),
              undefined,
              'output',
              toJsonValue(response),
            );
          },
          execution: {
            executionArn: this.config.executionArn,
            stateMachineArn: this.config.stateMachineArn,
            name: this.config.name,
            stateName: s.name,
            retryCount: run.retryCount,
          },
        };
        let work: Promise<unknown>;
        try {
          work = Promise.resolve(handler(request));
        } catch (err) {
          work = Promise.reject(err);
        }
        this.config.clock.busy(work).then(
          (value) => {
            if (settled) return;
            if (r.pattern === 'WAIT_FOR_TASK_TOKEN') {
              if (r.kind === 'service' && !submittedReported) request.submitted(value ?? {});
              return; // the token's answer settles the task
            }
            if (r.pattern === 'RUN_JOB' && !submittedReported) request.submitted(value ?? {});
            succeed(value ?? null);
          },
          (err) => failWith(err),
        );
      });
      if (exceedsPayloadLimit(result)) {
        const where = r.kind === 'service' ? r.resourceType : r.arn;
        throw new TaskFailure(
          'States.DataLimitExceeded',
          `The state/task '${where}' returned a result with a size exceeding the maximum number of bytes service limit.`,
        );
      }
      this.emit(
        frame,
        names.succeeded,
        names.succeededKey,
        taskDetails({ outputDetails: NOT_TRUNCATED }),
        undefined,
        'output',
        result,
      );
      return result;
    } catch (err) {
      if (err instanceof AbortReason) throw err;
      if (err instanceof TimedOut) {
        this.emit(frame, names.timedOut, names.timedOutKey, taskDetails({ error: err.error, cause: err.cause }));
        throw new StatesError(err.error, err.cause, { heartbeatTimeout: err.heartbeat });
      }
      const e = taskError(err);
      const details: Record<string, unknown> = {};
      if (e.error) details['error'] = e.error;
      if (e.cause !== undefined) details['cause'] = e.cause;
      this.emit(frame, names.failed, names.failedKey, taskDetails(details));
      throw e;
    } finally {
      ac.abort(new AbortReason('cancel'));
      ac.release();
      this.retireToken(token);
    }
  }

  private unknownResource(r: ParsedResource, args: JsonValue): TaskFailure {
    if (r.kind === 'lambda' || (r.resourceType === 'lambda' && isObject(args))) {
      const fn = r.kind === 'lambda' ? r.arn : String((args as JsonObject)['FunctionName'] ?? '');
      return new TaskFailure(
        'Lambda.ResourceNotFoundException',
        `Function not found: ${fn} (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException)`,
      );
    }
    if (r.kind === 'activity') return new TaskFailure('States.Runtime', `Activity Does Not Exist: '${r.arn}'`);
    return new TaskFailure('States.Runtime', `The resource ${r.arn} has no handler in the local engine.`);
  }

  // --------------------------------------------------------------------------------------------- Parallel

  private async parallel(s: ParallelState, run: StateRun, input: JsonValue): Promise<JsonValue> {
    const { frame } = run;
    const startedId = this.emit(frame, 'ParallelStateStarted');
    const group = CancelScope.childOf(frame.signal);
    const signal = group;
    const resume = run.resumeChildren;
    run.resumeChildren = undefined;
    const results: JsonValue[] = new Array(s.branches.length);
    const done = new Map<number, JsonValue>();
    const failedAt = new Map<number, ScopeCheckpoint>();
    let firstError: unknown;
    const pending: Promise<void>[] = [];
    const onFailure = (i: number, child: Frame, err: unknown): void => {
      if (err instanceof AbortReason && err.kind === 'cancel' && firstError !== undefined) return;
      const cp = this.checkpointOf(child);
      if (cp) failedAt.set(i, cp);
      if (firstError === undefined) {
        firstError = err;
        group.abort(new AbortReason('cancel'));
      }
    };
    for (let i = 0; i < s.branches.length; i++) {
      if (resume?.results.has(i)) {
        results[i] = resume.results.get(i) as JsonValue;
        done.set(i, results[i] as JsonValue);
        continue;
      }
      if (firstError !== undefined) break;
      const branchResume = resume?.failed.get(i);
      const child: Frame = {
        scope: s.branches[i] as CompiledScope,
        vars: new VariableScope(frame.vars, branchResume?.variables),
        thread: { last: startedId },
        signal,
        mapItem: undefined,
        record: frame.record,
        currentName: undefined,
        currentInput: null,
        currentVars: undefined,
        children: undefined,
        resume: branchResume,
      };
      try {
        const r = this.runScope(child, branchResume ? branchResume.input : input);
        if (isPromise<JsonValue>(r)) {
          pending.push(
            r.then(
              (v) => {
                results[i] = v;
                done.set(i, v);
              },
              (err) => onFailure(i, child, err),
            ),
          );
        } else {
          results[i] = r;
          done.set(i, r);
        }
      } catch (err) {
        onFailure(i, child, err);
      }
    }
    if (pending.length) await Promise.all(pending);
    group.release();
    if (firstError !== undefined) {
      frame.children = { results: done, failed: failedAt };
      throw firstError;
    }
    this.emit(frame, 'ParallelStateSucceeded');
    return results;
  }

  // --------------------------------------------------------------------------------------------- Map

  private async map(s: MapState, run: StateRun): Promise<Outcome> {
    const { frame } = run;
    let effective: JsonValue;
    let items: JsonValue;
    let env: AtaEnv | undefined;
    let maxConcurrency: number | undefined;
    if (s.ql === 'JSONPath') {
      effective = this.inputPath(run);
      items = s.itemsPath ? this.requirePath(s.itemsPath, this.pathEnv(run, effective)) : effective;
      maxConcurrency = this.numberFromPath(run, s.maxConcurrency, effective, 'integer');
    } else {
      env = this.ataEnv(run);
      effective = run.input;
      items = await this.ataValue(s.items, env, run.input);
      maxConcurrency = await this.ataNumber(run, s.maxConcurrency, env, 'integer', 0);
    }
    if (maxConcurrency !== undefined && maxConcurrency < 0)
      throw runtimeError(`MaxConcurrency must be a non-negative integer, got ${maxConcurrency}`);
    if (!Array.isArray(items)) {
      throw runtimeError(
        s.ql === 'JSONPath'
          ? `Item path ${s.itemsPath?.text ?? '$'} in map state refers to value ${toJsonText(items)} which is not a valid array`
          : `The Items field must evaluate to a JSON array, got ${toJsonText(items)}`,
      );
    }
    const list = items;
    this.emit(frame, 'MapStateStarted', 'mapStateStartedEventDetails', { length: list.length });

    let toleratedCount = Number.POSITIVE_INFINITY;
    let toleratedPercent = Number.POSITIVE_INFINITY;
    let batches: JsonValue[] | undefined;
    if (s.distributed) {
      const count =
        s.ql === 'JSONPath'
          ? this.numberFromPath(run, s.toleratedFailureCount, effective, 'integer')
          : await this.ataNumber(run, s.toleratedFailureCount, env as AtaEnv, 'integer', 0);
      const pct =
        s.ql === 'JSONPath'
          ? this.numberFromPath(run, s.toleratedFailurePercentage, effective, 'float')
          : await this.ataNumber(run, s.toleratedFailurePercentage, env as AtaEnv, 'float', 0);
      if (count !== undefined) {
        if (count < 0) throw runtimeError('ToleratedFailureCount cannot be negative.');
        toleratedCount = count;
      }
      if (pct !== undefined) {
        if (pct < 0 || pct > 100) throw runtimeError('ToleratedFailurePercentage must be between 0 and 100.');
        toleratedPercent = pct;
      }
      if (count === undefined && pct === undefined) {
        toleratedCount = 0;
        toleratedPercent = 0;
      }
    }

    // Each iteration's input: the item, or what ItemSelector makes of it.
    const selected: JsonValue[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const mapItem: JsonObject = { Index: i, Value: list[i] as JsonValue };
      if (s.itemSelector) {
        const itemRun = { ...run, frame: { ...frame, mapItem } };
        selected[i] = evaluatePathTemplate(s.itemSelector, this.pathEnv(itemRun, effective));
      } else if (s.itemSelectorAta) {
        const ctx = { ...this.context(run), Map: { Item: mapItem } };
        selected[i] = await evaluateAtaTemplate(s.itemSelectorAta, {
          states: { input: run.input, context: ctx },
          vars: frame.vars,
        });
      } else selected[i] = list[i] as JsonValue;
    }
    if (s.batcher) batches = await this.batch(s, run, effective, env, selected);
    const units = batches ?? selected;

    let mapRunArn: string | undefined;
    if (s.distributed) {
      mapRunArn = `${this.config.stateMachineArn.replace(':stateMachine:', ':mapRun:')}/${s.label ?? s.name}:${this.config.name}-${run.enteredId}`;
      this.emit(frame, 'MapRunStarted', 'mapRunStartedEventDetails', { mapRunArn });
    }
    const resume = run.resumeChildren;
    run.resumeChildren = undefined;
    const outcome = await this.iterate(s, run, units, maxConcurrency ?? 0, resume);
    let result: JsonValue[] = outcome.results;
    if (s.distributed) {
      const failures = outcome.failures.size;
      const total = units.length;
      const exceeded = failures > toleratedCount || (total > 0 && (failures / total) * 100 > toleratedPercent);
      if (exceeded) {
        frame.children = { results: outcome.done, failed: outcome.failedAt };
        this.emit(frame, 'MapRunFailed', 'mapRunFailedEventDetails', {
          error: 'States.ExceedToleratedFailureThreshold',
          cause: 'The specified tolerated failure threshold was exceeded',
        });
        throw new StatesError(
          'States.ExceedToleratedFailureThreshold',
          'The specified tolerated failure threshold was exceeded',
        );
      }
      this.emit(frame, 'MapRunSucceeded');
      result = outcome.results.map((v, i) => {
        const f = outcome.failures.get(i);
        if (!f) return v;
        const out: JsonObject = { Error: f.error };
        if (f.cause !== undefined) out['Cause'] = f.cause;
        return out;
      });
    } else if (outcome.firstError !== undefined) {
      frame.children = { results: outcome.done, failed: outcome.failedAt };
      throw outcome.firstError;
    }
    this.emit(frame, 'MapStateSucceeded');

    if (s.ql === 'JSONPath') {
      let r: JsonValue = result;
      if (s.resultSelector) r = evaluatePathTemplate(s.resultSelector, this.pathEnv(run, r));
      const assigned = this.assignPath(run, s.assignPath, r);
      const output = this.outputPath(run, this.resultPath(s.resultPath, run.input, r));
      return this.exit(run, output, assigned, s.next);
    }
    const after = this.ataEnv(run, { result });
    const output = await this.ataValue(s.output, after, result);
    const assigned = s.assignAta ? ((await evaluateAtaTemplate(s.assignAta, after)) as JsonObject) : undefined;
    return this.exit(run, output, assigned, s.next);
  }

  private async batch(
    s: MapState,
    run: StateRun,
    effective: JsonValue,
    env: AtaEnv | undefined,
    items: JsonValue[],
  ): Promise<JsonValue[]> {
    const b = s.batcher as NonNullable<MapState['batcher']>;
    const maxItems =
      s.ql === 'JSONPath'
        ? this.numberFromPath(run, b.maxItems, effective, 'integer')
        : await this.ataNumber(run, b.maxItems, env as AtaEnv, 'integer', 1);
    const maxBytes =
      s.ql === 'JSONPath'
        ? this.numberFromPath(run, b.maxBytes, effective, 'integer')
        : await this.ataNumber(run, b.maxBytes, env as AtaEnv, 'integer', 1);
    let batchInput: JsonValue | undefined;
    if (b.batchInput) batchInput = evaluatePathTemplate(b.batchInput, this.pathEnv(run, effective));
    else if (b.batchInputAta) batchInput = await evaluateAtaTemplate(b.batchInputAta, env as AtaEnv);
    const out: JsonValue[] = [];
    let cur: JsonValue[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (cur.length === 0) return;
      const batch: JsonObject = { Items: cur };
      if (batchInput !== undefined) batch['BatchInput'] = batchInput;
      out.push(batch);
      cur = [];
      bytes = 0;
    };
    for (const item of items) {
      const size = utf8Length(toJsonText(item));
      if (
        cur.length > 0 &&
        ((maxItems !== undefined && cur.length >= maxItems) || (maxBytes !== undefined && bytes + size > maxBytes))
      )
        flush();
      cur.push(item);
      bytes += size;
    }
    flush();
    return out;
  }

  /** Runs the iterations, at most `maxConcurrency` at a time (0: no limit). */
  private async iterate(
    s: MapState,
    run: StateRun,
    inputs: JsonValue[],
    maxConcurrency: number,
    resume: ChildrenCheckpoint | undefined,
  ): Promise<MapRun> {
    const mapRun = new MapRun(this, s, run.frame, inputs, resume);
    // An inline Map runs at most 40 iterations at once, a distributed one 10,000 child executions (AWS's quotas).
    const cap = s.distributed ? 10_000 : 40;
    const lanes = Math.min(maxConcurrency > 0 ? maxConcurrency : cap, cap, inputs.length);
    // Lanes start synchronously: iterations that need no waiting run at once, in order.
    const pending: Promise<void>[] = [];
    for (let l = 0; l < lanes; l++) pending.push(mapRun.lane());
    await Promise.all(pending);
    mapRun.group.release();
    return mapRun;
  }

  /** Runs one iteration's states (used by MapRun). */
  public runIteration(frame: Frame, input: JsonValue): JsonValue | Promise<JsonValue> {
    return this.runScope(frame, input);
  }

  /** Records an event on a frame's thread (used by MapRun). */
  public record(frame: Frame, type: string, detailsKey: string, details: Record<string, unknown>): number {
    return this.emit(frame, type, detailsKey, details);
  }

  /** Where a frame stopped (used by MapRun). */
  public stoppedAt(frame: Frame): ScopeCheckpoint | undefined {
    return this.checkpointOf(frame);
  }
}

/** The PathEnv of a state: `$$` is built the first time a path asks for it. */
class StatePathEnv implements PathEnv {
  private ctx: JsonObject | undefined;
  public readonly vars: VariableScope;

  public constructor(
    private readonly execution: Execution,
    private readonly run: StateRun,
    public readonly input: JsonValue,
  ) {
    this.vars = run.frame.vars;
  }

  public context(): JsonObject {
    this.ctx ??= this.execution.contextOf(this.run);
    return this.ctx;
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
