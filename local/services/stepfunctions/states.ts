import { randomUUID } from 'node:crypto';
import {
  type CompiledStateMachine,
  type Engine,
  EngineApiError,
  ExecutionAlreadyExistsError,
  ExecutionDoesNotExistError,
  ExecutionNotRedrivableError,
  type HistoryEvent,
  InvalidNameError,
  type JsonValue,
  parseExecutionInput,
  type ScopeCheckpoint,
  type StateMachineDefinition,
  validExecutionName,
} from '../../engine';
import {
  detailsOf,
  type ExecutionRecord,
  type ExecutionStore,
  InvalidCursorError,
  MachineDetailsStore,
  type StateMachineRecord,
} from '../../store';
import { checkpointFromHistory } from './checkpoint';
import { executionOfMapRun, type MapRunView, mapRunsOf, pageOf } from './map-runs';
import { type CreateStateMachineInput, type MachineView, StateMachines } from './state-machines';
import {
  InvalidArnError,
  ResourceNotFoundError,
  StateMachineDoesNotExistError,
  ValidationError,
} from './states-errors';
import { pageSize, pageToken } from './states-input';
import type { TestStateOutput } from './test-state';
import { type SyncExecution, UnrecordedRuns } from './unrecorded';

export type { MapRunView } from './map-runs';
export type { MachineView } from './state-machines';
export {
  ConflictError,
  InvalidArnError,
  InvalidLoggingConfigurationError,
  MissingRequiredParameterError,
  ResourceNotFoundError,
  StateMachineAlreadyExistsError,
  StateMachineDoesNotExistError,
  StateMachineTypeNotSupportedError,
  TooManyTagsError,
  ValidationError,
} from './states-errors';
export type { TestStateOutput } from './test-state';
export type { SyncExecution } from './unrecorded';

/**
 * The local Step Functions service: the engine runs executions, the store keeps them. Every API operation of the
 * local server goes through here, with AWS's semantics and error codes:
 *
 * - state machines are kept in the store; their lifecycle (create, update, delete, versions, tags, validation) is
 *   state-machines.ts, and the engine compiles each definition once per revision;
 * - StartSyncExecution and TestState run on the engine without being recorded (unrecorded.ts, test-state.ts);
 *   ListMapRuns and DescribeMapRun read the recorded history (map-runs.ts);
 * - StartExecution is idempotent as AWS's is (same name and input while running: the same ARN; else
 *   `ExecutionAlreadyExists`), across restarts too, since the store is asked first;
 * - every history event is written to the store when the engine records it, and DescribeExecution,
 *   ListExecutions and GetExecutionHistory answer from the store (running or ended, before or after a restart);
 * - RedriveExecution uses the engine's own redrive when the execution is still in memory, else restarts the
 *   execution from its history (`resume`, below), which is also what happens to executions that were running
 *   when the runtime stopped (`recover`).
 *
 * Resuming from history: the engine continues the execution from the checkpoint its recorded history gives
 * (checkpoint.ts): the top-level state it was in, with that state's recorded input and the variables the states
 * before it assigned; an inline Map keeps the results of its iterations that succeeded and continues those in
 * progress at the state each was in. The history continues with an `ExecutionRedriven` event, as after a redrive
 * on AWS.
 */

export interface StatesServiceOptions {
  readonly engine: Engine;
  readonly store: ExecutionStore;
  /** Logging, tracing, versions and tags of state machines; default: a store on the same database. */
  readonly details?: MachineDetailsStore;
  readonly region: string;
  readonly accountId: string;
  readonly partition?: string;
  /** Told every history event once it is stored (metrics, live views). */
  readonly onEvent?: (execution: ExecutionRecord, event: HistoryEvent) => void;
  /** Told when an execution ends (its stored record, as ended). */
  readonly onEnd?: (execution: ExecutionRecord) => void;
}

const TERMINAL: Readonly<Record<string, ExecutionRecord['status']>> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionAborted: 'ABORTED',
  ExecutionTimedOut: 'TIMED_OUT',
};

function jsonEqualText(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

function repositoryOf(input: JsonValue): string | null {
  const name = (input as { request?: { repository?: { fullName?: unknown } } } | null)?.request?.repository?.fullName;
  return typeof name === 'string' ? name : null;
}

export class StatesService {
  public readonly engine: Engine;
  private readonly store: ExecutionStore;
  /** CreateStateMachine, versions, tags and the rest of the state machine operations (state-machines.ts). */
  public readonly machines: StateMachines;
  /** Executions the engine runs without recording them: TestState's, StartSyncExecution's. */
  private readonly runs: UnrecordedRuns;
  private pendingStart: {
    arn: string;
    stateMachineArn: string;
    name: string;
    input: string;
    repository: string | null;
  } | null = null;
  private readonly partition: string;
  private frozen = false;

  public constructor(private readonly options: StatesServiceOptions) {
    this.engine = options.engine;
    this.store = options.store;
    this.partition = options.partition ?? 'aws';
    this.machines = new StateMachines(
      this.engine,
      this.store,
      options.details ?? new MachineDetailsStore(this.store.database),
      (name) => this.stateMachineArnOf(name),
      options.accountId,
      (machineArn) => this.stopRunning(machineArn),
    );
    this.runs = new UnrecordedRuns(this.engine, this.stateMachineArnOf('TestState'), (record) => this.compile(record));
    this.engine.subscribe((arn, event) => this.record(arn, event));
  }

  public stateMachineArnOf(name: string): string {
    return `arn:${this.partition}:states:${this.options.region}:${this.options.accountId}:stateMachine:${name}`;
  }

  // ------------------------------------------------------------------------------------------ recording

  /**
   * The runtime is stopping: nothing more is recorded, and the executions still running are stopped in the
   * engine only. The store keeps them RUNNING at their last recorded event, so the next start resumes them, as
   * after a crash.
   */
  public freeze(): void {
    this.frozen = true;
    for (const record of this.store.running()) {
      try {
        this.engine.stop(record.arn, { error: 'Stepline.RuntimeStopping', cause: 'the local runtime is stopping' });
      } catch {
        // Not in the engine: nothing runs.
      }
    }
  }

  private record(executionArn: string, raw: HistoryEvent, own = false): void {
    if (this.frozen || this.runs.has(executionArn)) return;
    const event = raw;
    if (event.type === 'ExecutionStarted' && this.pendingStart?.arn === executionArn) {
      const p = this.pendingStart;
      this.store.createExecution({
        arn: p.arn,
        stateMachineArn: p.stateMachineArn,
        name: p.name,
        input: p.input,
        startDate: event.timestamp.getTime(),
        repository: p.repository,
      });
      this.pendingStart = null;
    }
    this.store.appendEvent(executionArn, event);
    const terminal = TERMINAL[event.type];
    if (event.type === 'ExecutionRedriven' && !own) {
      const count = Number(detailsOf(event)?.[1]?.['redriveCount'] ?? 1);
      this.store.redriven(executionArn, count, event.timestamp.getTime());
    }
    if (terminal) {
      const details = detailsOf(event)?.[1] ?? {};
      this.store.finish(executionArn, {
        status: terminal,
        output: terminal === 'SUCCEEDED' ? String(details['output'] ?? 'null') : null,
        error: typeof details['error'] === 'string' ? (details['error'] as string) : null,
        cause: typeof details['cause'] === 'string' ? (details['cause'] as string) : null,
        stopDate: event.timestamp.getTime(),
      });
    }
    const stored = this.store.getExecution(executionArn);
    if (stored) {
      try {
        this.options.onEvent?.(stored, event);
      } catch {
        // Observers never stop an execution.
      }
      if (terminal) {
        if (terminal === 'SUCCEEDED') queueMicrotask(() => this.engine.forget(executionArn));
        try {
          this.options.onEnd?.(stored);
        } catch {
          // Observers never stop an execution.
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------------ state machines

  /** CreateStateMachine (state-machines.ts); `replace` is the runtime's own start, which updates the pipeline. */
  public createStateMachine(input: CreateStateMachineInput): {
    stateMachineArn: string;
    creationDate: Date;
    stateMachineVersionArn?: string;
  } {
    return this.machines.create(input);
  }

  /** DescribeStateMachine, of a state machine or of one of its versions. */
  public describeStateMachine(arn: unknown): MachineView {
    return this.machines.describe(arn);
  }

  public listStateMachines(
    maxResults: unknown,
    nextToken: unknown,
  ): { items: StateMachineRecord[]; next: string | null } {
    return this.machines.list(maxResults, nextToken);
  }

  private compile(record: StateMachineRecord): CompiledStateMachine {
    return this.machines.compile(record.arn, record.definition);
  }

  /** Stops the running executions of a state machine that is being deleted. */
  private stopRunning(machineArn: string): void {
    for (const record of this.store.running()) {
      if (record.stateMachineArn !== machineArn) continue;
      this.stopExecution({
        executionArn: record.arn,
        error: 'States.Runtime',
        cause: 'The state machine of this execution was deleted (DeleteStateMachine).',
      });
    }
  }

  // ------------------------------------------------------------------------------------------ executions

  private limit(value: unknown): number {
    return pageSize(value);
  }

  private token(value: unknown): string | undefined {
    return pageToken(value);
  }

  private guard<T>(f: () => T): T {
    try {
      return f();
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new EngineApiError('InvalidToken', error.message);
      throw error;
    }
  }

  /** StartExecution. */
  public startExecution(input: { stateMachineArn?: unknown; name?: unknown; input?: unknown }): {
    executionArn: string;
    startDate: Date;
  } {
    const machineArn = input.stateMachineArn;
    if (typeof machineArn !== 'string' || !machineArn.includes(':stateMachine:')) {
      throw new InvalidArnError(`Invalid Arn: 'Resource type not valid in this context: ${String(machineArn)}'`);
    }
    const machineRecord = this.store.getStateMachine(machineArn);
    if (!machineRecord) throw new StateMachineDoesNotExistError(machineArn);
    const name = input.name === undefined || input.name === null ? randomUUID() : input.name;
    if (typeof name !== 'string' || !validExecutionName(name))
      throw new InvalidNameError(`Invalid Name: '${String(name)}'`);
    if (input.input !== undefined && input.input !== null && typeof input.input !== 'string') {
      throw new ValidationError('input must be JSON text (a string)');
    }
    const text = typeof input.input === 'string' && input.input !== '' ? input.input : '{}';
    const value = parseExecutionInput(text);
    const executionArn = `${machineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.store.getExecution(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && jsonEqualText(existing.input, text)) {
        return { executionArn, startDate: new Date(existing.startDate) };
      }
      throw new ExecutionAlreadyExistsError(executionArn);
    }
    const machine = this.compile(machineRecord);
    this.pendingStart = {
      arn: executionArn,
      stateMachineArn: machineArn,
      name,
      input: text,
      repository: repositoryOf(value),
    };
    try {
      const started = this.engine.start(machine, value, {
        name,
        executionArn,
        stateMachineArn: machineArn,
        stateMachineName: machineRecord.name,
        roleArn: machineRecord.roleArn,
      });
      // The stored start date (the ExecutionStarted event's) is the one every later answer gives.
      const stored = this.store.getExecution(executionArn);
      return { executionArn, startDate: new Date(stored?.startDate ?? started.startDate.getTime()) };
    } finally {
      this.pendingStart = null;
    }
  }

  // ------------------------------------------------------------------------------------------ unrecorded runs

  /** StartSyncExecution (unrecorded.ts). */
  public startSyncExecution(input: {
    stateMachineArn?: unknown;
    name?: unknown;
    input?: unknown;
  }): Promise<SyncExecution> {
    return this.runs.startSyncExecution(this.machines.record(input.stateMachineArn), input);
  }

  /** TestState: one state run on its own (test-state.ts). */
  public testState(input: Record<string, unknown>): Promise<TestStateOutput> {
    return this.runs.testState(input);
  }

  // ------------------------------------------------------------------------------------------ map runs

  /** ListMapRuns: the Distributed Map runs of an execution, from its history (map-runs.ts). */
  public listMapRuns(input: { executionArn?: unknown; maxResults?: unknown; nextToken?: unknown }): {
    items: MapRunView[];
    next: string | null;
  } {
    const record = this.execution(input.executionArn);
    return this.guard(() => pageOf(this.mapRuns(record), this.limit(input.maxResults), this.token(input.nextToken)));
  }

  /** DescribeMapRun. */
  public describeMapRun(input: { mapRunArn?: unknown }): MapRunView {
    const arn = input.mapRunArn;
    if (typeof arn !== 'string' || !arn.includes(':mapRun:'))
      throw new InvalidArnError(`Invalid Arn: '${String(arn)}'`);
    const executionArn = executionOfMapRun(arn);
    const record = executionArn ? this.store.getExecution(executionArn) : undefined;
    const run = record ? this.mapRuns(record).find((r) => r.mapRunArn === arn) : undefined;
    if (!run) throw new ResourceNotFoundError(`Resource not found: '${arn}'`);
    return run;
  }

  private mapRuns(record: ExecutionRecord): MapRunView[] {
    return mapRunsOf(
      record,
      this.store.history(record.arn),
      this.store.getStateMachine(record.stateMachineArn)?.definition,
    );
  }

  public execution(arn: unknown): ExecutionRecord {
    if (typeof arn !== 'string' || !arn.includes(':execution:')) {
      throw new InvalidArnError(`Invalid Arn: 'Resource type not valid in this context: ${String(arn)}'`);
    }
    const record = this.store.getExecution(arn);
    if (!record) throw new ExecutionDoesNotExistError(arn);
    return record;
  }

  /** Whether RedriveExecution would take this execution. */
  public redrivable(record: ExecutionRecord): { ok: boolean; reason: string } {
    if (record.status === 'RUNNING' || record.status === 'SUCCEEDED') {
      return { ok: false, reason: `Execution is ${record.status}` };
    }
    const machine = this.store.getStateMachine(record.stateMachineArn);
    if (!machine) return { ok: false, reason: 'The state machine does not exist any more' };
    let point: ScopeCheckpoint | undefined;
    try {
      point = checkpointFromHistory(
        JSON.parse(machine.definition) as StateMachineDefinition,
        this.store.history(record.arn),
      );
    } catch {
      point = undefined;
    }
    return point ? { ok: true, reason: '' } : { ok: false, reason: 'The execution did not stop inside a state' };
  }

  public listExecutions(input: {
    stateMachineArn?: unknown;
    statusFilter?: unknown;
    maxResults?: unknown;
    nextToken?: unknown;
  }): { items: ExecutionRecord[]; next: string | null } {
    const machine = input.stateMachineArn;
    if (machine !== undefined) {
      if (typeof machine !== 'string' || !machine.includes(':stateMachine:')) {
        throw new InvalidArnError(`Invalid Arn: 'Resource type not valid in this context: ${String(machine)}'`);
      }
      if (!this.store.getStateMachine(machine)) throw new StateMachineDoesNotExistError(machine);
    }
    const status = input.statusFilter;
    const statuses = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];
    if (status !== undefined && (typeof status !== 'string' || !statuses.includes(status))) {
      throw new ValidationError(
        `1 validation error detected: Value '${String(status)}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${statuses.join(', ')}]`,
      );
    }
    const page = this.guard(() =>
      this.store.listExecutions(
        {
          ...(typeof machine === 'string' ? { stateMachineArn: machine } : {}),
          ...(status ? { status: status as string } : {}),
        },
        this.limit(input.maxResults),
        this.token(input.nextToken),
      ),
    );
    return { items: [...page.items], next: page.next };
  }

  public history(input: {
    executionArn?: unknown;
    maxResults?: unknown;
    nextToken?: unknown;
    reverseOrder?: unknown;
    includeExecutionData?: unknown;
  }): { events: HistoryEvent[]; next: string | null } {
    const record = this.execution(input.executionArn);
    const page = this.guard(() =>
      this.store.historyPage(record.arn, {
        limit: this.limit(input.maxResults),
        reverse: input.reverseOrder === true,
        cursor: this.token(input.nextToken),
      }),
    );
    const events = input.includeExecutionData === false ? page.items.map(withoutData) : [...page.items];
    return { events, next: page.next };
  }

  /** StopExecution. A closed execution answers its own stop date. */
  public stopExecution(input: { executionArn?: unknown; error?: unknown; cause?: unknown }): { stopDate: Date } {
    const record = this.execution(input.executionArn);
    if (record.status !== 'RUNNING') return { stopDate: new Date(record.stopDate ?? Date.now()) };
    const details = {
      ...(typeof input.error === 'string' ? { error: input.error } : {}),
      ...(typeof input.cause === 'string' ? { cause: input.cause } : {}),
    };
    try {
      return this.engine.stop(record.arn, details);
    } catch (error) {
      if (!(error instanceof ExecutionDoesNotExistError)) throw error;
      // Running in the store but not in the engine: end it here.
      this.appendOwn(record, 'ExecutionAborted', 'executionAbortedEventDetails', details);
      return { stopDate: new Date() };
    }
  }

  /** RedriveExecution. */
  public redriveExecution(input: { executionArn?: unknown }): { redriveDate: Date } {
    const record = this.execution(input.executionArn);
    if (record.status === 'RUNNING' || record.status === 'SUCCEEDED') {
      throw new ExecutionNotRedrivableError(
        `Execution is ${record.status}: only FAILED, TIMED_OUT or ABORTED executions can be redriven: '${record.arn}'`,
      );
    }
    try {
      this.engine.redrive(record.arn);
      return { redriveDate: new Date() };
    } catch (error) {
      if (!(error instanceof ExecutionDoesNotExistError)) throw error;
    }
    const outcome = this.resume(record);
    if (!outcome.ok)
      throw new ExecutionNotRedrivableError(`Execution cannot be redriven: ${outcome.reason}: '${record.arn}'`);
    return { redriveDate: new Date() };
  }

  /**
   * Restarts an execution from its history (see the module comment). Answers why not when it cannot: no state
   * machine, no state to resume in.
   */
  public resume(record: ExecutionRecord): { ok: true } | { ok: false; reason: string } {
    const machineRecord = this.store.getStateMachine(record.stateMachineArn);
    if (!machineRecord) return { ok: false, reason: 'its state machine does not exist any more' };
    const definition = JSON.parse(machineRecord.definition) as StateMachineDefinition;
    const history = this.store.history(record.arn);
    const checkpoint = checkpointFromHistory(definition, history);
    if (!checkpoint) return { ok: false, reason: 'its history shows no state it was in' };
    let machine: CompiledStateMachine;
    try {
      machine = this.compile(machineRecord);
    } catch (error) {
      return { ok: false, reason: `its definition cannot be loaded: ${(error as Error).message}` };
    }
    this.engine.forget(record.arn);
    this.engine.start(machine, JSON.parse(record.input) as JsonValue, {
      name: record.name,
      executionArn: record.arn,
      stateMachineArn: record.stateMachineArn,
      stateMachineName: machineRecord.name,
      roleArn: machineRecord.roleArn,
      continueFrom: {
        checkpoint,
        history,
        redriveCount: record.redriveCount + 1,
        startDate: new Date(record.startDate),
      },
    });
    return { ok: true };
  }

  /** Appends an event that the runtime itself records (not the engine) to an execution's history. */
  private appendOwn(record: ExecutionRecord, type: string, detailsKey: string, details: Record<string, unknown>): void {
    const last = this.store.history(record.arn).at(-1)?.id ?? 0;
    const now = new Date();
    this.record(
      record.arn,
      { id: last + 1, previousEventId: last, timestamp: now, type, [detailsKey]: details } as HistoryEvent,
      true,
    );
  }

  /**
   * After a restart: every execution that was running resumes where it stopped (`resume: true`, the default), or
   * ends FAILED with error `Stepline.RuntimeInterrupted` and a cause that says what happened and where.
   */
  public recover(options: { resume?: boolean } = {}): { resumed: string[]; failed: string[] } {
    const resumed: string[] = [];
    const failed: string[] = [];
    for (const record of this.store.running()) {
      const history = this.store.history(record.arn);
      const last = history.at(-1);
      const where = last
        ? `last recorded event #${last.id} ${last.type} at ${last.timestamp.toISOString()}`
        : 'no event recorded';
      if (options.resume !== false) {
        const outcome = this.resume(record);
        if (outcome.ok) {
          resumed.push(record.arn);
          continue;
        }
        this.appendOwn(record, 'ExecutionFailed', 'executionFailedEventDetails', {
          error: 'Stepline.RuntimeInterrupted',
          cause: `The local runtime stopped (killed or crashed) while this execution was running (${where}), and it could not resume it: ${outcome.reason}.`,
        });
      } else {
        this.appendOwn(record, 'ExecutionFailed', 'executionFailedEventDetails', {
          error: 'Stepline.RuntimeInterrupted',
          cause: `The local runtime stopped (killed or crashed) while this execution was running (${where}); it was started again with resume disabled. Redrive the execution to continue it from the state where it stopped.`,
        });
      }
      failed.push(record.arn);
    }
    return { resumed, failed };
  }

  public sendTaskSuccess(input: { taskToken?: unknown; output?: unknown }): void {
    if (typeof input.output !== 'string')
      throw new ValidationError(
        "1 validation error detected: Value null at 'output' failed to satisfy constraint: Member must not be null",
      );
    this.engine.sendTaskSuccess(String(input.taskToken ?? ''), input.output);
  }

  public sendTaskFailure(input: { taskToken?: unknown; error?: unknown; cause?: unknown }): void {
    this.engine.sendTaskFailure(
      String(input.taskToken ?? ''),
      typeof input.error === 'string' ? input.error : undefined,
      typeof input.cause === 'string' ? input.cause : undefined,
    );
  }

  public sendTaskHeartbeat(input: { taskToken?: unknown }): void {
    this.engine.sendTaskHeartbeat(String(input.taskToken ?? ''));
  }
}

/** A history event without its input and output (GetExecutionHistory's `includeExecutionData: false`). */
function withoutData(event: HistoryEvent): HistoryEvent {
  const found = detailsOf(event);
  if (!found) return event;
  const [key, details] = found;
  const { input: _input, output: _output, ...rest } = details;
  return { ...event, [key]: rest } as HistoryEvent;
}
