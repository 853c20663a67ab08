import { CancelScope } from '../cancel';
import type { TaskState } from '../compiled';
import { StatesError, TaskFailure } from '../errors';
import { AbortReason, isPromise } from '../frame';
import { NOT_TRUNCATED } from '../history';
import { exceedsPayloadLimit, isObject, toJsonValue } from '../json';
import type { ParsedResource } from '../resources';
import { checkArgumentsSize, type StateRun, type Step } from '../state-run';
import { eventNames, TimedOut, type TokenWaiter, taskError } from '../task-support';
import type { TaskHandler, TaskRequest } from '../tasks';
import type { JsonObject, JsonValue } from '../types';

/**
 * Task: one attempt (Retry calls it again). The resolved Parameters or Arguments go to the handler registered
 * for the Resource; the attempt ends with the handler's result, a task token's answer, a failure, or a timeout
 * (TimeoutSeconds, or HeartbeatSeconds without a heartbeat for tasks that wait for a token).
 */
export async function attemptTask(s: TaskState, run: StateRun): Promise<Step> {
  const { io } = s;
  const effective = io.effectiveInput(run);
  const prepared = s.resource.pattern === 'WAIT_FOR_TASK_TOKEN' ? run.exec.issueToken(run) : undefined;
  const pending = io.arguments(run, effective);
  const args = isPromise<JsonValue>(pending) ? await pending : pending;
  checkArgumentsSize(args, s.name);
  const result = await new TaskCall(s, run, args, prepared).perform();
  return io.afterResult(run, result, s.next);
}

async function numberOf(s: TaskState, run: StateRun, spec: TaskState['timeout']): Promise<number | undefined> {
  const v = s.io.number(run, spec, run.input, 'integer', 1);
  return isPromise<number | undefined>(v) ? await v : v;
}

/** The failure of a resource nothing serves, as AWS reports it. */
function unknownResource(r: ParsedResource, args: JsonValue): TaskFailure {
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

/** One call of a Task's resource: its events, its timers, and the promise that settles it. */
class TaskCall {
  private readonly r: ParsedResource;
  private readonly names: ReturnType<typeof eventNames>;
  private readonly ac: CancelScope;
  private timeout: number | undefined;
  private heartbeat: number | undefined;
  private settled = false;
  private submittedReported = false;
  private heartbeatTimer: AbortController | undefined;
  private resolve!: (v: JsonValue) => void;
  private reject!: (e: unknown) => void;

  public constructor(
    private readonly s: TaskState,
    private readonly run: StateRun,
    private readonly args: JsonValue,
    private readonly prepared: { readonly token: string; readonly waiter: TokenWaiter } | undefined,
  ) {
    this.r = s.resource;
    this.names = eventNames(this.r);
    this.ac = CancelScope.childOf(run.frame.signal);
  }

  public async perform(): Promise<JsonValue> {
    const { run, names } = this;
    this.timeout = await numberOf(this.s, run, this.s.timeout);
    this.heartbeat = await numberOf(this.s, run, this.s.heartbeat);
    this.scheduled();
    try {
      const result = await new Promise<JsonValue>((resolve, reject) => {
        this.resolve = resolve;
        this.reject = reject;
        this.begin();
      });
      if (exceedsPayloadLimit(result)) {
        const where = this.r.kind === 'service' ? this.r.resourceType : this.r.arn;
        throw new TaskFailure(
          'States.DataLimitExceeded',
          `The state/task '${where}' returned a result with a size exceeding the maximum number of bytes service limit.`,
        );
      }
      const details = this.details({ outputDetails: NOT_TRUNCATED });
      run.exec.emit(run.frame, names.succeeded, names.succeededKey, details, undefined, 'output', result);
      return result;
    } catch (err) {
      throw this.failed(err);
    } finally {
      this.ac.abort(new AbortReason('cancel'));
      this.ac.release();
      run.exec.retireToken(this.prepared?.token);
    }
  }

  /** Records why the attempt failed and returns what to throw. */
  private failed(err: unknown): unknown {
    const { run, names } = this;
    if (err instanceof AbortReason) return err;
    if (err instanceof TimedOut) {
      run.exec.emit(run.frame, names.timedOut, names.timedOutKey, this.details({ error: err.error, cause: err.cause }));
      return new StatesError(err.error, err.cause, { heartbeatTimeout: err.heartbeat });
    }
    const e = taskError(err);
    const details: Record<string, unknown> = {};
    if (e.error) details['error'] = e.error;
    if (e.cause !== undefined) details['cause'] = e.cause;
    run.exec.emit(run.frame, names.failed, names.failedKey, this.details(details));
    return e;
  }

  private details(extra: Record<string, unknown>): Record<string, unknown> {
    const r = this.r;
    return r.kind === 'service' ? { resourceType: r.resourceType, resource: r.resource, ...extra } : extra;
  }

  /** The …Scheduled event: what the resource is called with. */
  private scheduled(): void {
    const { r, run, names, timeout, heartbeat } = this;
    if (r.kind === 'service') {
      const details: Record<string, unknown> = {
        resourceType: r.resourceType,
        resource: r.resource,
        region: run.exec.config.region,
      };
      if (timeout !== undefined) details['timeoutInSeconds'] = timeout;
      if (heartbeat !== undefined) details['heartbeatInSeconds'] = heartbeat;
      run.exec.emit(run.frame, names.scheduled, names.scheduledKey, details, undefined, 'parameters', this.args);
    } else {
      const details: Record<string, unknown> = { resource: r.arn, inputDetails: NOT_TRUNCATED };
      if (timeout !== undefined) details['timeoutInSeconds'] = timeout;
      if (heartbeat !== undefined && r.kind === 'activity') details['heartbeatInSeconds'] = heartbeat;
      run.exec.emit(run.frame, names.scheduled, names.scheduledKey, details, undefined, 'input', this.args);
    }
  }

  private settle(fn: () => void): void {
    if (this.settled) return;
    this.settled = true;
    fn();
  }

  private succeed = (v: unknown): void => this.settle(() => this.resolve(toJsonValue(v)));

  private fail = (e: unknown): void => this.settle(() => this.reject(e));

  /** Starts the timers and the handler (or hands the task to an activity worker). */
  private begin(): void {
    const { ac, r, run, prepared } = this;
    ac.onAbort(() => this.fail(ac.reason));
    if (this.timeout !== undefined) {
      const seconds = this.timeout;
      run.exec.config.clock
        .sleep(seconds * 1000, ac.signal)
        .then(() => this.fail(new TimedOut(`The task timed out after ${seconds} seconds.`, false)))
        .catch(() => {});
    }
    if (prepared) prepared.waiter.bind(this.succeed, this.fail, this.beat);
    const handler = run.exec.config.handlers.find(r.arn, r.base);
    if (!handler) {
      const activities = run.exec.config.activities;
      if (r.kind === 'activity' && activities && prepared) {
        const started = (w: string): void => this.started(w);
        activities.enqueue(r.arn, { token: prepared.token, input: this.args, started, signal: ac.signal });
        return;
      }
      this.started();
      this.fail(unknownResource(r, this.args));
      return;
    }
    this.started();
    this.invoke(handler);
  }

  /** Resets the heartbeat timer: heartbeats apply to tasks that wait for a token (callbacks, activities). */
  private beat = (): void => {
    const seconds = this.heartbeat;
    if (seconds === undefined || this.settled || this.r.pattern !== 'WAIT_FOR_TASK_TOKEN') return;
    this.heartbeatTimer?.abort();
    this.heartbeatTimer = new AbortController();
    this.run.exec.config.clock
      .sleep(seconds * 1000, AbortSignal.any([this.ac.signal, this.heartbeatTimer.signal]))
      .then(() => this.fail(new TimedOut(`No heartbeat was received for ${seconds} seconds.`, true)))
      .catch(() => {});
  };

  private started(workerName?: string): void {
    if (this.settled) return;
    const { r, run } = this;
    if (r.kind === 'activity')
      run.exec.emit(run.frame, 'ActivityStarted', 'activityStartedEventDetails', { workerName: workerName ?? 'local' });
    else if (r.kind === 'lambda') run.exec.emit(run.frame, 'LambdaFunctionStarted');
    else run.exec.emit(run.frame, 'TaskStarted', 'taskStartedEventDetails', this.details({}));
    this.beat();
  }

  private submitted = (response: unknown): void => {
    if (this.settled || this.submittedReported) return;
    this.submittedReported = true;
    const { run } = this;
    const details = this.details({ outputDetails: NOT_TRUNCATED });
    run.exec.emit(
      run.frame,
      'TaskSubmitted',
      'taskSubmittedEventDetails',
      details,
      undefined,
      'output',
      toJsonValue(response),
    );
  };

  private invoke(handler: TaskHandler): void {
    const { r, run } = this;
    let work: Promise<unknown>;
    try {
      work = Promise.resolve(handler(this.request()));
    } catch (err) {
      work = Promise.reject(err);
    }
    run.exec.config.clock.busy(work).then(
      (value) => {
        if (this.settled) return;
        if (r.pattern === 'WAIT_FOR_TASK_TOKEN') {
          if (r.kind === 'service' && !this.submittedReported) this.submitted(value ?? {});
          return; // the token's answer settles the task
        }
        if (r.pattern === 'RUN_JOB' && !this.submittedReported) this.submitted(value ?? {});
        this.succeed(value ?? null);
      },
      (err) => this.fail(err),
    );
  }

  private request(): TaskRequest {
    const { r, run, s } = this;
    const config = run.exec.config;
    return {
      resource: r.arn,
      baseResource: r.base,
      pattern: r.pattern,
      input: this.args,
      taskToken: this.prepared?.token,
      timeoutSeconds: this.timeout,
      heartbeatSeconds: this.heartbeat,
      signal: this.ac.signal,
      heartbeat: this.beat,
      sleep: (ms: number) => config.clock.sleep(ms),
      clock: { mode: config.clock.mode, now: () => config.clock.now() },
      submitted: this.submitted,
      execution: {
        executionArn: config.executionArn,
        stateMachineArn: config.stateMachineArn,
        name: config.name,
        stateName: s.name,
        retryCount: run.retryCount,
      },
    };
  }
}
