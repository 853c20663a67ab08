import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';

/**
 * Lambda for the AWS-composition suite: each function is its built bundle (the asset the template points at),
 * loaded in execution environments of its own (child processes running `lambda-runner.mjs`) with the environment
 * the template gives it, reused while warm, one invocation at a time per environment, more environments when
 * invocations overlap, as Lambda scales. A function that runs past its timeout is stopped and answers
 * `Sandbox.Timedout`, and its environment is discarded, as Lambda does.
 */

const RUNNER = join(__dirname, 'lambda-runner.mjs');

export interface BundleSpec {
  /** The function's physical name. */
  readonly name: string;
  readonly arn: string;
  /** `index.handler`. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** The asset folder: LAMBDA_TASK_ROOT and the working folder. */
  readonly taskRoot: string;
  /** The whole environment of the function (the template's variables and the runtime's). */
  readonly env: Readonly<Record<string, string>>;
}

export class FunctionError extends Error {
  public constructor(
    name: string,
    message: string,
    public readonly trace: readonly string[] = [],
  ) {
    super(message);
    this.name = name;
  }
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

class Environment {
  public busy = false;
  public readonly process: ChildProcess;
  private readonly ready: Promise<void>;
  private pending: Pending | null = null;
  private current: string | null = null;
  /** The event of the invocation in progress. */
  public event: unknown = null;

  public constructor(
    private readonly spec: BundleSpec,
    log: (line: string) => void,
  ) {
    this.process = fork(RUNNER, [], {
      cwd: spec.taskRoot,
      env: { ...spec.env },
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    for (const stream of [this.process.stdout, this.process.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim()) log(line);
      });
    }
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (message: { type?: string }) => {
        if (message?.type === 'ready') resolve();
      };
      this.process.on('message', onMessage);
      this.process.once('exit', (code, signal) => reject(new Error(`exited (${code ?? signal}) before it was ready`)));
    });
    this.ready.catch(() => {});
    this.process.on(
      'message',
      (message: { type?: string; id?: string; ok?: boolean; payload?: unknown; error?: never }) => this.answer(message),
    );
    this.process.on('exit', (code, signal) => {
      const pending = this.pending;
      if (!pending) return;
      this.finish();
      pending.reject(
        new FunctionError(
          'Runtime.ExitError',
          `RequestId: ${this.current} Error: Runtime exited with ${signal ? `signal: ${signal}` : `error: exit status ${code}`}`,
        ),
      );
    });
  }

  private killed = false;

  public get alive(): boolean {
    return !this.killed && this.process.exitCode === null && this.process.signalCode === null;
  }

  public async invoke(event: unknown, context: Context): Promise<unknown> {
    this.busy = true;
    await this.ready;
    const deadline = Date.now() + this.spec.timeoutSeconds * 1000;
    const { getRemainingTimeInMillis: _r, done: _d, fail: _f, succeed: _s, ...fields } = context;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.timeOut(), this.spec.timeoutSeconds * 1000);
      this.pending = { resolve, reject, timer };
      this.current = context.awsRequestId;
      this.event = event;
      this.process.send({ type: 'invoke', id: context.awsRequestId, event, context: fields, deadline }, (error) => {
        if (!error || this.pending?.timer !== timer) return;
        this.finish();
        reject(new FunctionError('Runtime.ExitError', `RequestId: ${context.awsRequestId} Error: ${error.message}`));
      });
    });
  }

  /** Ends the running invocation as Lambda ends one that reaches its timeout: the environment is discarded. */
  public timeOut(): void {
    const pending = this.pending;
    if (!pending) return;
    this.finish();
    this.killed = true;
    this.process.kill('SIGKILL');
    const seconds = this.spec.timeoutSeconds.toFixed(2);
    pending.reject(
      new FunctionError(
        'Sandbox.Timedout',
        `RequestId: ${this.current} Error: Task timed out after ${seconds} seconds`,
      ),
    );
  }

  private answer(message: {
    type?: string;
    id?: string;
    ok?: boolean;
    payload?: unknown;
    error?: { errorType: string; errorMessage: string; trace: string[] };
  }): void {
    if (message?.type !== 'result' || message.id !== this.current || !this.pending) return;
    const pending = this.pending;
    this.finish();
    if (message.ok) pending.resolve(message.payload);
    else pending.reject(new FunctionError(message.error!.errorType, message.error!.errorMessage, message.error!.trace));
  }

  private finish(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = null;
    this.busy = false;
  }

  public stop(): void {
    if (this.alive) this.process.kill('SIGKILL');
    this.killed = true;
  }
}

/** Told at the start of every invocation, before the function runs. */
export type InvokeObserver = (fn: BundleFunction, event: unknown) => void;

export class BundleFunction {
  /** Every line the function wrote (stdout and stderr), oldest first. */
  public readonly logs: string[] = [];
  /** How many execution environments were started (cold starts). */
  public coldStarts = 0;
  public invocations = 0;
  private readonly environments: Environment[] = [];
  private readonly observers: InvokeObserver[] = [];
  private readonly waiting: (() => void)[] = [];

  /**
   * `maxEnvironments`: at most this many execution environments at once; further invocations wait for one to be
   * free (Lambda would start more; on a 2-core machine each costs a second of CPU to start, and waiting changes
   * nothing the platform can observe but time).
   */
  public constructor(
    public readonly spec: BundleSpec,
    private readonly maxEnvironments = 2,
  ) {}

  private async environment(): Promise<Environment> {
    for (;;) {
      for (let i = this.environments.length - 1; i >= 0; i--) {
        if (!this.environments[i]!.alive) this.environments.splice(i, 1);
      }
      const idle = this.environments.find((e) => !e.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (this.environments.length < this.maxEnvironments) {
        const fresh = new Environment(this.spec, (line) => this.logs.push(line));
        fresh.busy = true;
        this.environments.push(fresh);
        this.coldStarts += 1;
        return fresh;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(): void {
    this.waiting.shift()?.();
  }

  public observe(observer: InvokeObserver): () => void {
    this.observers.push(observer);
    return () => this.observers.splice(this.observers.indexOf(observer), 1);
  }

  /** Runs the handler in an idle environment (or a new one). Throws a FunctionError as Lambda reports it. */
  public async invoke(event: unknown, context?: Partial<Context>): Promise<unknown> {
    const environment = await this.environment();
    this.invocations += 1;
    const requestId = context?.awsRequestId ?? randomUUID();
    const full: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: this.spec.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.spec.arn,
      memoryLimitInMB: String(this.spec.memoryMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${this.spec.name}`,
      logStreamName: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${requestId.slice(0, 8)}`,
      getRemainingTimeInMillis: () => this.spec.timeoutSeconds * 1000,
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
    const running = environment.invoke(JSON.parse(JSON.stringify(event ?? null)) as unknown, full);
    for (const observer of [...this.observers]) observer(this, event);
    try {
      return await running;
    } finally {
      this.release();
    }
  }

  /**
   * The running invocations whose event `which` picks reach their timeout now (a scenario's explicit event, not a
   * wait); answers how many.
   */
  public timeOutNow(which: (event: unknown) => boolean = () => true): number {
    let count = 0;
    for (const environment of this.environments) {
      if (!environment.busy || !which(environment.event)) continue;
      environment.timeOut();
      count += 1;
    }
    return count;
  }

  public stop(): void {
    for (const environment of this.environments) environment.stop();
    this.environments.length = 0;
  }
}
