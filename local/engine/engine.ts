import { randomUUID } from 'node:crypto';
import { type Clock, createClock, RealClock } from './clock';
import { type CompiledStateMachine, compileStateMachine } from './compile';
import { lastRecordedTime } from './continuation';
import {
  ExecutionAlreadyExistsError,
  ExecutionDoesNotExistError,
  ExecutionNotRedrivableError,
  InvalidDefinitionError,
  InvalidExecutionInputError,
  InvalidNameError,
  InvalidOutputError,
  StatesError,
} from './errors';
import { type ActivityQueue, Execution, type RedriveSource } from './execution';
import { DEFAULT_MAX_HISTORY_EVENTS, type EventListener } from './history';
import { jsonEquals, PAYLOAD_LIMIT_BYTES, toJsonText, toJsonValue, utf8Length } from './json';
import { HandlerRegistry, type TaskHandler, TaskTokens } from './tasks';
import type {
  ClockMode,
  ExecutionResult,
  ExecutionStatus,
  HistoryEvent,
  JsonValue,
  StateMachineDefinition,
} from './types';

export interface EngineOptions {
  /** `real` (default) sleeps; `virtual` runs every wait at once (tests). */
  readonly clock?: ClockMode;
  readonly region?: string;
  readonly accountId?: string;
  /** Step Functions fails an execution whose history would exceed this many events (default 25,000). */
  readonly maxHistoryEvents?: number;
  /**
   * Secret that task tokens are signed with. Keep it across restarts (with the executions) so that a token issued
   * before a restart answers TaskDoesNotExist rather than InvalidToken. Default: random per engine.
   */
  readonly tokenSecret?: string;
  /**
   * Reject at start a definition whose service integrations (other than Lambda) have no handler, as AWS rejects
   * a resource it does not recognize. Default true.
   */
  readonly requireHandlers?: boolean;
  /** Handlers to register at once: ARN pattern → handler. */
  readonly handlers?: Readonly<Record<string, TaskHandler>>;
}

export interface StartOptions {
  /** The execution's name (default: a UUID). 1-80 characters, no whitespace, brackets, wildcards or specials. */
  readonly name?: string;
  /** Default: derived from the state machine ARN and the name. */
  readonly executionArn?: string;
  /** Default: `arn:aws:states:<region>:<account>:stateMachine:<stateMachineName>`. */
  readonly stateMachineArn?: string;
  /** Default: the last part of stateMachineArn, else `StateMachine`. */
  readonly stateMachineName?: string;
  readonly roleArn?: string;
  /** Overrides the engine's clock for this execution. */
  readonly clock?: ClockMode;
  /**
   * Continues an execution this engine does not hold (the local runtime, after a restart): its recorded history,
   * where it stood, its redrive count and start date. The run goes on as a redrive does: ExecutionRedriven, then
   * the state where it stood, a Map or Parallel re-running only its children that had not succeeded.
   */
  readonly continueFrom?: RedriveSource;
}

export interface StartedExecution {
  readonly executionArn: string;
  readonly startDate: Date;
  /** Settles when the execution ends (never rejects). */
  readonly done: Promise<ExecutionResult>;
}

/** DescribeExecution's view of an execution. Input and output are JSON text, as the API returns them. */
export interface ExecutionDescription {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly redriveCount: number;
  readonly redriveStatus: 'REDRIVABLE' | 'NOT_REDRIVABLE';
}

/** Receives every history event of every execution, in order, the moment it is recorded. */
export type EngineListener = (executionArn: string, event: HistoryEvent) => void;

interface Record_ {
  execution: Execution;
  readonly machine: CompiledStateMachine;
  readonly name: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly roleArn: string;
  readonly clock: ClockMode;
}

interface ActivityTask {
  readonly token: string;
  readonly input: JsonValue;
  readonly started: (workerName: string) => void;
  readonly signal: AbortSignal;
}

/** Real time is the same for every execution: one clock serves them all. */
const REAL_CLOCK: Clock = new RealClock();

const NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;

/** Execution names: 1 to 80 characters, without whitespace, brackets, wildcards, specials or control characters. */
export function validExecutionName(name: string): boolean {
  if (name.length < 1 || name.length > 80 || NAME_FORBIDDEN.test(name)) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) return false;
  }
  return true;
}

/**
 * The long-lived local Step Functions engine: runs many executions at once, stops them, takes task tokens back
 * (SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat), serves activity workers, redrives failed executions,
 * and tells a listener about every history event as it happens.
 *
 * ```ts
 * const engine = new Engine({ handlers: { 'arn:aws:states:::codebuild:startBuild.sync': runBuild } });
 * engine.subscribe((arn, event) => store.append(arn, event));
 * const { executionArn, done } = engine.start(definition, input, { name: 'push-1a2b3c' });
 * ```
 */
export class Engine {
  public readonly region: string;
  public readonly accountId: string;
  private readonly handlers = new HandlerRegistry();
  private readonly tokens: TaskTokens;
  private readonly executions = new Map<string, Record_>();
  private readonly listeners = new Set<EngineListener>();
  private readonly activityQueues = new Map<string, ActivityTask[]>();
  private readonly activityWaiters = new Map<string, ((task: ActivityTask) => void)[]>();
  private readonly activities: ActivityQueue;

  public constructor(private readonly options: EngineOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.tokens = new TaskTokens(options.tokenSecret);
    for (const [pattern, handler] of Object.entries(options.handlers ?? {})) this.handlers.register(pattern, handler);
    this.activities = { enqueue: (arn, task) => this.enqueueActivity(arn, task) };
  }

  /** Serves the Task resources matching `pattern` (`*` is a wildcard). Returns a function that unregisters it. */
  public registerHandler(pattern: string, handler: TaskHandler): () => void {
    return this.handlers.register(pattern, handler);
  }

  /** Adds a listener for every history event; returns a function that removes it. */
  public subscribe(listener: EngineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Validates a definition as CreateStateMachine does; throws InvalidDefinitionError. */
  public validate(definition: StateMachineDefinition | string): CompiledStateMachine {
    const machine = compileStateMachine(definition);
    this.checkHandlers(machine);
    return machine;
  }

  /** StartExecution. Throws InvalidDefinition, InvalidName, InvalidExecutionInput or ExecutionAlreadyExists. */
  public start(
    definition: StateMachineDefinition | string | CompiledStateMachine,
    input: unknown = {},
    options: StartOptions = {},
  ): StartedExecution {
    const machine = isCompiled(definition) ? definition : compileStateMachine(definition);
    this.checkHandlers(machine);
    const name = options.name ?? randomUUID();
    if (!validExecutionName(name)) throw new InvalidNameError(`Invalid Name: '${name}'`);
    const stateMachineName =
      options.stateMachineName ??
      (options.stateMachineArn ? (options.stateMachineArn.split(':')[6] ?? 'StateMachine') : 'StateMachine');
    const stateMachineArn =
      options.stateMachineArn ?? `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${stateMachineName}`;
    const executionArn = options.executionArn ?? `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const value = toJsonValue(input);
    if (utf8Length(toJsonText(value)) > PAYLOAD_LIMIT_BYTES) {
      throw new InvalidExecutionInputError(
        'Execution input exceeds the maximum number of bytes service limit (262144).',
      );
    }
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.execution.status === 'RUNNING' && jsonEquals(existing.execution.input, value)) {
        return { executionArn, startDate: existing.execution.startDate, done: existing.execution.done };
      }
      throw new ExecutionAlreadyExistsError(executionArn);
    }
    const record: Record_ = {
      execution: undefined as unknown as Execution,
      machine,
      name,
      stateMachineArn,
      stateMachineName,
      roleArn: options.roleArn ?? `arn:aws:iam::${this.accountId}:role/StepFunctionsLocal`,
      clock: options.clock ?? this.options.clock ?? 'real',
    };
    record.execution = this.createExecution(record, executionArn, value, options.continueFrom);
    this.executions.set(executionArn, record);
    const done = record.execution.start();
    return { executionArn, startDate: record.execution.startDate, done };
  }

  private createExecution(
    record: Record_,
    executionArn: string,
    input: JsonValue,
    redrive: RedriveSource | undefined,
  ): Execution {
    return new Execution({
      machine: record.machine,
      input,
      executionArn,
      name: record.name,
      stateMachineArn: record.stateMachineArn,
      stateMachineName: record.stateMachineName,
      roleArn: record.roleArn,
      region: this.region,
      clock: this.clockFor(record.clock, redrive),
      handlers: this.handlers,
      tokens: this.tokens,
      activities: this.activities,
      listener: this.listenerFor(executionArn),
      maxHistoryEvents: this.options.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS,
      ...(redrive ? { redrive } : {}),
    });
  }

  /**
   * A new run's clock. A run that continues a recorded history (a redrive, a resume after a restart) goes on from
   * its last recorded event (ADR 0115): the virtual clock starts there, the real clock never reads earlier.
   */
  private clockFor(mode: ClockMode, redrive: RedriveSource | undefined): Clock {
    const from = redrive ? lastRecordedTime(redrive.history) : undefined;
    if (mode === 'real' && from === undefined) return REAL_CLOCK;
    return createClock(mode, from);
  }

  /** The listener of one execution: present only while someone subscribes. */
  private listenerFor(executionArn: string): () => EventListener | undefined {
    const listener: EventListener = (event) => this.broadcast(executionArn, event);
    return () => (this.listeners.size > 0 ? listener : undefined);
  }

  private broadcast(executionArn: string, event: HistoryEvent): void {
    for (const l of this.listeners) {
      try {
        l(executionArn, event);
      } catch {
        // A listener that throws does not stop the others nor the execution.
      }
    }
  }

  private checkHandlers(machine: CompiledStateMachine): void {
    if (this.options.requireHandlers === false) return;
    const missing = machine.resources.filter(
      (r) => r.kind === 'service' && r.resourceType !== 'lambda' && !this.handlers.find(r.arn, r.base),
    );
    if (missing.length === 0) return;
    throw new InvalidDefinitionError(
      missing.map((r) => ({
        code: 'SCHEMA_VALIDATION_FAILED',
        location: '/States',
        message: `The resource provided ${r.arn} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.`,
      })),
    );
  }

  private get(executionArn: string): Record_ {
    const r = this.executions.get(executionArn);
    if (!r) throw new ExecutionDoesNotExistError(executionArn);
    return r;
  }

  /** DescribeExecution. */
  public describe(executionArn: string): ExecutionDescription {
    const r = this.get(executionArn);
    const e = r.execution;
    const d: { -readonly [K in keyof ExecutionDescription]: ExecutionDescription[K] } = {
      executionArn,
      stateMachineArn: r.stateMachineArn,
      name: r.name,
      status: e.status,
      startDate: e.startDate,
      input: toJsonText(e.input),
      redriveCount: e.redriveCount,
      redriveStatus: this.redrivable(r) ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
    };
    if (e.stopDate) d.stopDate = e.stopDate;
    if (e.status === 'SUCCEEDED') d.output = toJsonText(e.output);
    if (e.error !== undefined) d.error = e.error;
    if (e.cause !== undefined) d.cause = e.cause;
    return d;
  }

  /** ListExecutions (all executions this engine holds, newest first). */
  public list(filter: { status?: ExecutionStatus; stateMachineArn?: string } = {}): ExecutionDescription[] {
    const out: ExecutionDescription[] = [];
    for (const [arn, r] of this.executions) {
      if (filter.status && r.execution.status !== filter.status) continue;
      if (filter.stateMachineArn && r.stateMachineArn !== filter.stateMachineArn) continue;
      out.push(this.describe(arn));
    }
    return out.sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
  }

  /** GetExecutionHistory (oldest first). */
  public history(executionArn: string): readonly HistoryEvent[] {
    return this.get(executionArn).execution.history.events;
  }

  /** The result once the execution ends. */
  public result(executionArn: string): Promise<ExecutionResult> {
    return this.get(executionArn).execution.done;
  }

  /** StopExecution: a running execution ends ABORTED with the given error and cause. */
  public stop(executionArn: string, details: { error?: string; cause?: string } = {}): { stopDate: Date } {
    const e = this.get(executionArn).execution;
    e.stop(details.error, details.cause);
    return { stopDate: e.stopDate ?? new Date() };
  }

  /** Drops an execution that has ended from memory (the runtime keeps it in its own store). */
  public forget(executionArn: string): boolean {
    const r = this.executions.get(executionArn);
    if (!r || r.execution.status === 'RUNNING') return false;
    return this.executions.delete(executionArn);
  }

  /** SendTaskSuccess. `output` is JSON text, as in the API. */
  public sendTaskSuccess(taskToken: string, output: string): void {
    const task = this.tokens.lookup(taskToken);
    let value: JsonValue;
    try {
      value = JSON.parse(output) as JsonValue;
    } catch {
      throw new InvalidOutputError(`Invalid Output: '${String(output).slice(0, 200)}' is not valid JSON`);
    }
    if (utf8Length(output) > PAYLOAD_LIMIT_BYTES)
      throw new InvalidOutputError('Invalid Output: the output exceeds the maximum number of bytes service limit');
    this.tokens.retire(taskToken);
    task.succeed(value);
  }

  /** SendTaskFailure. */
  public sendTaskFailure(taskToken: string, error?: string, cause?: string): void {
    const task = this.tokens.lookup(taskToken);
    this.tokens.retire(taskToken);
    task.fail(new StatesError(error ?? '', cause));
  }

  /** SendTaskHeartbeat. */
  public sendTaskHeartbeat(taskToken: string): void {
    this.tokens.lookup(taskToken).heartbeat();
  }

  /**
   * GetActivityTask: the next task scheduled for an activity that has no handler. Waits up to `waitMs` (AWS
   * waits 60 s) and answers undefined when none comes.
   */
  public getActivityTask(
    activityArn: string,
    workerName = 'worker',
    waitMs = 60_000,
  ): Promise<{ taskToken: string; input: string } | undefined> {
    const take = (task: ActivityTask): { taskToken: string; input: string } => {
      task.started(workerName);
      return { taskToken: task.token, input: toJsonText(task.input) };
    };
    const queue = this.activityQueues.get(activityArn) ?? [];
    while (queue.length) {
      const task = queue.shift() as ActivityTask;
      if (!task.signal.aborted) return Promise.resolve(take(task));
    }
    if (waitMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiters = this.activityWaiters.get(activityArn) ?? [];
      const waiter = (task: ActivityTask): void => {
        clearTimeout(timer);
        resolve(take(task));
      };
      const timer = setTimeout(() => {
        const list = this.activityWaiters.get(activityArn) ?? [];
        const i = list.indexOf(waiter);
        if (i >= 0) list.splice(i, 1);
        resolve(undefined);
      }, waitMs);
      timer.unref?.();
      waiters.push(waiter);
      this.activityWaiters.set(activityArn, waiters);
    });
  }

  private enqueueActivity(activityArn: string, task: ActivityTask): void {
    const waiters = this.activityWaiters.get(activityArn);
    const waiter = waiters?.shift();
    if (waiter) {
      waiter(task);
      return;
    }
    const queue = this.activityQueues.get(activityArn) ?? [];
    queue.push(task);
    this.activityQueues.set(activityArn, queue);
  }

  private redrivable(r: Record_): boolean {
    const e = r.execution;
    return (e.status === 'FAILED' || e.status === 'TIMED_OUT' || e.status === 'ABORTED') && e.checkpoint !== undefined;
  }

  /**
   * RedriveExecution: restarts a FAILED, TIMED_OUT or ABORTED execution from the state where it stopped, with the
   * input and variables that state had; a Parallel or Map state re-runs only its branches or iterations that did
   * not succeed. The history continues (ExecutionRedriven) and `$$.Execution.RedriveCount` goes up by one.
   */
  public redrive(executionArn: string): StartedExecution {
    const r = this.get(executionArn);
    const old = r.execution;
    if (old.status === 'RUNNING' || old.status === 'SUCCEEDED') {
      throw new ExecutionNotRedrivableError(
        `Execution is ${old.status}: only FAILED, TIMED_OUT or ABORTED executions can be redriven: '${executionArn}'`,
      );
    }
    if (!old.checkpoint)
      throw new ExecutionNotRedrivableError(
        `Execution cannot be redriven: it did not stop inside a state: '${executionArn}'`,
      );
    r.execution = this.createExecution(r, executionArn, old.input, {
      checkpoint: old.checkpoint,
      history: old.history.events,
      redriveCount: old.redriveCount + 1,
      startDate: old.startDate,
    });
    const done = r.execution.start();
    return { executionArn, startDate: r.execution.startDate, done };
  }
}

function isCompiled(d: unknown): d is CompiledStateMachine {
  return typeof d === 'object' && d !== null && 'root' in d && 'resources' in d && 'definition' in d;
}

/** StartExecution's input is JSON text: parses it or throws InvalidExecutionInput. */
export function parseExecutionInput(text: string | undefined): JsonValue {
  if (text === undefined || text === '') return {};
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new InvalidExecutionInputError(`Invalid State Machine Execution Input: '${(err as Error).message}'`);
  }
}
