import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { SteplineError } from '../../../core/errors';
import { TaskFailure, type TaskHandler, type TaskRequest } from '../../engine';

/**
 * Lambda, in process: the functions/* handlers (built by their factories with local dependencies) registered by
 * name, invoked with a Lambda-like context and a timeout, their events and results passed through JSON as the
 * Lambda service does. `lambdaTaskHandler` serves the workflow's `arn:aws:states:::lambda:invoke` (and
 * `.waitForTaskToken`) and direct function ARNs, answering and failing the way Step Functions does.
 */

export type LambdaHandler = (event: unknown, context: Context) => unknown | Promise<unknown>;

export interface LocalFunction {
  /** The function name (`stepline-status`); its ARN is built from the service's region and account. */
  readonly name: string;
  readonly handler: LambdaHandler;
  /** The function's own timeout. Default 60 s. */
  readonly timeoutSeconds?: number;
  readonly memoryMb?: number;
}

export interface LambdaServiceOptions {
  readonly region?: string;
  readonly accountId?: string;
  readonly partition?: string;
  /** Told after every invocation (metrics, logs): the function, how long it took, and its error type if any. */
  readonly onInvoke?: (info: InvocationInfo) => void;
}

export interface InvocationInfo {
  readonly functionName: string;
  readonly requestId: string;
  readonly durationMs: number;
  readonly errorType: string | null;
  readonly event: unknown;
  readonly result: unknown;
}

/** What a function answered: its payload, or the error it failed with (Lambda's `FunctionError: Unhandled`). */
export type InvokeOutcome =
  | { readonly ok: true; readonly requestId: string; readonly payload: unknown }
  | {
      readonly ok: false;
      readonly requestId: string;
      readonly error: { readonly errorType: string; readonly errorMessage: string; readonly trace: readonly string[] };
    };

/** The function named is not registered (Lambda's `ResourceNotFoundException`, the name the SDK shows). */
export class FunctionNotFoundError extends SteplineError {
  public constructor(functionName: string, options?: ErrorOptions) {
    super(`Function not found: ${functionName}`, options);
    this.name = 'ResourceNotFoundException';
  }
}

const FUNCTION_ARN =
  /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9$_-]+))?$/;
const PARTIAL_ARN = /^(\d{12}):function:([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9$_-]+))?$/;
const NAME = /^([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9$_-]+))?$/;

/** JSON in, JSON out: what crosses the Lambda API boundary (undefined becomes null, Dates become strings). */
function throughJson(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as unknown;
}

export class LambdaService {
  public readonly region: string;
  public readonly accountId: string;
  public readonly partition: string;
  private readonly functions = new Map<string, LocalFunction>();

  public constructor(private readonly options: LambdaServiceOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.partition = options.partition ?? 'aws';
  }

  public register(fn: LocalFunction): string {
    if (!NAME.test(fn.name)) throw new TypeError(`"${fn.name}" is not a valid Lambda function name`);
    this.functions.set(fn.name, fn);
    return this.arnOf(fn.name);
  }

  public arnOf(name: string): string {
    return `arn:${this.partition}:lambda:${this.region}:${this.accountId}:function:${name}`;
  }

  public names(): string[] {
    return [...this.functions.keys()];
  }

  /** The function a `FunctionName` names: a name, a full ARN or a partial ARN, with or without a qualifier. */
  public resolve(functionName: string): LocalFunction {
    const name =
      FUNCTION_ARN.exec(functionName)?.[4] ?? PARTIAL_ARN.exec(functionName)?.[2] ?? NAME.exec(functionName)?.[1];
    const fn = name ? this.functions.get(name) : undefined;
    if (!fn) throw new FunctionNotFoundError(functionName.startsWith('arn:') ? functionName : this.arnOf(functionName));
    return fn;
  }

  /**
   * Invokes a function synchronously (RequestResponse). A handler that throws, or that runs past the function's
   * timeout (`Sandbox.Timedout`), answers an error outcome, as Lambda does; the caller decides what that means.
   */
  public async invoke(functionName: string, event: unknown, signal?: AbortSignal): Promise<InvokeOutcome> {
    const fn = this.resolve(functionName);
    const requestId = randomUUID();
    const timeoutMs = (fn.timeoutSeconds ?? 60) * 1000;
    const started = Date.now();
    const deadline = started + timeoutMs;
    const arn = this.arnOf(fn.name);
    const context: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: arn,
      memoryLimitInMB: String(fn.memoryMb ?? 512),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `${new Date(started).toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]local`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
    let timer: NodeJS.Timeout | undefined;
    let outcome: InvokeOutcome;
    try {
      const work = Promise.resolve().then(() => fn.handler(throughJson(event), context));
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const seconds = (timeoutMs / 1000).toFixed(2);
          const err = new Error(`${new Date().toISOString()} ${requestId} Task timed out after ${seconds} seconds`);
          err.name = 'Sandbox.Timedout';
          reject(err);
        }, timeoutMs);
      });
      const aborted = new Promise<never>((_, reject) => {
        if (!signal) return;
        const onAbort = (): void => {
          const err = new Error('the invocation was cancelled: the task ended');
          err.name = 'Lambda.Cancelled';
          reject(err);
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      work.catch(() => {});
      const payload = await Promise.race([work, timeout, aborted]);
      outcome = { ok: true, requestId, payload: throughJson(payload) };
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      outcome = {
        ok: false,
        requestId,
        error: {
          errorType: err.name || 'Error',
          errorMessage: err.message,
          trace: (err.stack ?? '').split('\n').slice(0, 20),
        },
      };
    } finally {
      if (timer) clearTimeout(timer);
    }
    this.options.onInvoke?.({
      functionName: fn.name,
      requestId,
      durationMs: Date.now() - started,
      errorType: outcome.ok ? null : outcome.error.errorType,
      event,
      result: outcome.ok ? outcome.payload : outcome.error,
    });
    return outcome;
  }
}

/** The response of Lambda's Invoke as Step Functions' `lambda:invoke` returns it. */
export function invokeResponse(requestId: string, payload: unknown): Record<string, unknown> {
  const date = new Date().toUTCString();
  const headers = {
    Connection: 'keep-alive',
    'Content-Type': 'application/json',
    Date: date,
    'X-Amz-Executed-Version': '$LATEST',
    'x-amzn-Remapped-Content-Length': '0',
    'x-amzn-RequestId': requestId,
  };
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      HttpHeaders: headers,
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: 200,
  };
}

function argumentsOf(request: TaskRequest): Record<string, unknown> {
  const input = request.input;
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
}

/**
 * The Task handler of `arn:aws:states:::lambda:invoke` (also `.waitForTaskToken`) and of direct function ARNs:
 * - `lambda:invoke`: `{ FunctionName, Payload, InvocationType? }` → Invoke's response (`Payload`, `StatusCode`,
 *   `ExecutedVersion`, `SdkHttpMetadata`, `SdkResponseMetadata`); `InvocationType: 'Event'` answers 202 at once;
 * - a function ARN as Resource: the state's input is the event and the payload is the result;
 * - a function error fails the task with error = the errorType and cause = `{errorMessage, errorType, trace}`;
 *   an unknown function fails with `Lambda.ResourceNotFoundException`.
 */
export function lambdaTaskHandler(service: LambdaService): TaskHandler {
  return async function invokeLambdaTask(request) {
    const direct = request.baseResource.includes(':lambda:') && request.baseResource.includes(':function:');
    const args = argumentsOf(request);
    const functionName = direct ? request.baseResource : args['FunctionName'];
    if (typeof functionName !== 'string' || functionName === '') {
      throw new TaskFailure(
        'Lambda.InvalidParameterValueException',
        'lambda:invoke needs FunctionName: the name or ARN of the function',
      );
    }
    const event = direct ? request.input : (args['Payload'] ?? {});
    try {
      service.resolve(functionName);
    } catch (error) {
      throw new TaskFailure(
        'Lambda.ResourceNotFoundException',
        `${(error as Error).message} (Service: Lambda, Status Code: 404, Request ID: ${randomUUID()})`,
      );
    }
    if (!direct && args['InvocationType'] === 'Event') {
      void service.invoke(functionName, event).catch(() => {});
      const requestId = randomUUID();
      return { ...invokeResponse(requestId, ''), StatusCode: 202 };
    }
    const outcome = await service.invoke(functionName, event, request.signal);
    if (!outcome.ok) {
      throw new TaskFailure(
        outcome.error.errorType,
        JSON.stringify({
          errorMessage: outcome.error.errorMessage,
          errorType: outcome.error.errorType,
          trace: outcome.error.trace,
        }),
      );
    }
    return direct ? outcome.payload : invokeResponse(outcome.requestId, outcome.payload);
  };
}
