import { SteplineError } from '../../core/errors';

/**
 * Errors of the local Step Functions engine.
 *
 * Two families live here:
 * - API errors (`EngineApiError` and subclasses): what a Step Functions API call answers when it cannot be served,
 *   each with the `code` that the AWS API uses (`InvalidDefinition`, `TaskTimedOut`, ...), so that an HTTP layer can
 *   map them one to one.
 * - `TaskFailure`: what a Task handler throws to fail its task with an error name and a cause, exactly as a service
 *   integration fails on AWS (`Lambda.ServiceException`, `CodeBuild.BuildFailed`, a custom error name, ...).
 */
export class EngineError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EngineError';
  }
}

/** An error answered by an engine API call; `code` is the AWS Step Functions API error code. */
export class EngineApiError extends EngineError {
  public readonly code: string;

  public constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EngineApiError';
    this.code = code;
  }
}

/** One problem found in a state machine definition, with the JSON pointer of the field at fault. */
export interface DefinitionDiagnostic {
  /** AWS's diagnostic code, e.g. `SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET`. */
  readonly code: string;
  /** JSON pointer of the field, e.g. `/States/Build/Retry/0/ErrorEquals`. */
  readonly location: string;
  readonly message: string;
}

/** The definition is not a valid Amazon States Language document (CreateStateMachine's `InvalidDefinition`). */
export class InvalidDefinitionError extends EngineApiError {
  public readonly diagnostics: readonly DefinitionDiagnostic[];

  public constructor(diagnostics: readonly DefinitionDiagnostic[], options?: ErrorOptions) {
    const text = diagnostics.map((d) => `${d.code}: ${d.message} at ${d.location || '/'}`).join(', ');
    super('InvalidDefinition', `Invalid State Machine Definition: '${text}'`, options);
    this.name = 'InvalidDefinitionError';
    this.diagnostics = diagnostics;
  }
}

export class InvalidExecutionInputError extends EngineApiError {
  public constructor(message: string, options?: ErrorOptions) {
    super('InvalidExecutionInput', message, options);
    this.name = 'InvalidExecutionInputError';
  }
}

export class InvalidNameError extends EngineApiError {
  public constructor(message: string, options?: ErrorOptions) {
    super('InvalidName', message, options);
    this.name = 'InvalidNameError';
  }
}

export class ExecutionAlreadyExistsError extends EngineApiError {
  public constructor(executionArn: string, options?: ErrorOptions) {
    super('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`, options);
    this.name = 'ExecutionAlreadyExistsError';
  }
}

export class ExecutionDoesNotExistError extends EngineApiError {
  public constructor(executionArn: string, options?: ErrorOptions) {
    super('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`, options);
    this.name = 'ExecutionDoesNotExistError';
  }
}

export class ExecutionNotRedrivableError extends EngineApiError {
  public constructor(message: string, options?: ErrorOptions) {
    super('ExecutionNotRedrivable', message, options);
    this.name = 'ExecutionNotRedrivableError';
  }
}

/** The token is not one that this engine could have issued (malformed). */
export class InvalidTokenError extends EngineApiError {
  public constructor(message = 'Invalid Token', options?: ErrorOptions) {
    super('InvalidToken', message, options);
    this.name = 'InvalidTokenError';
  }
}

/** The token is well formed but names no task that this engine knows. */
export class TaskDoesNotExistError extends EngineApiError {
  public constructor(message = "Task Does Not Exist: 'Provided task does not exist'", options?: ErrorOptions) {
    super('TaskDoesNotExist', message, options);
    this.name = 'TaskDoesNotExistError';
  }
}

/** The task behind the token has already finished: completed, failed, timed out, or its execution ended. */
export class TaskTimedOutError extends EngineApiError {
  public constructor(message = "Task Timed Out: 'Provided task does not exist anymore'", options?: ErrorOptions) {
    super('TaskTimedOut', message, options);
    this.name = 'TaskTimedOutError';
  }
}

/** SendTaskSuccess was given an output that is not JSON. */
export class InvalidOutputError extends EngineApiError {
  public constructor(message: string, options?: ErrorOptions) {
    super('InvalidOutput', message, options);
    this.name = 'InvalidOutputError';
  }
}

/** A `${Name}` placeholder of a definition was left without a value. */
export class MissingSubstitutionError extends EngineError {
  public readonly placeholders: readonly string[];

  public constructor(placeholders: readonly string[], options?: ErrorOptions) {
    super(`No substitution for ${placeholders.map((p) => `\${${p}}`).join(', ')}`, options);
    this.name = 'MissingSubstitutionError';
    this.placeholders = placeholders;
  }
}

/**
 * Thrown by a Task handler to fail its task. `error` is the error name that Retry and Catch match
 * (`ErrorEquals`), `cause` the human-readable detail. Any other exception a handler throws is reported with the
 * exception's `name` as error and its `message` as cause.
 */
export class TaskFailure extends EngineError {
  public readonly error: string;
  public override readonly cause: string | undefined;

  public constructor(error: string, cause?: string, options?: ErrorOptions) {
    super(cause ? `${error}: ${cause}` : error, options);
    this.name = 'TaskFailure';
    this.error = error;
    this.cause = cause;
  }
}

/**
 * An error inside an execution, as the Amazon States Language names it (`States.Runtime`, `States.TaskFailed`, a
 * Fail state's Error, ...). Internal to the engine: it travels from where it happens to the Retry/Catch that handles
 * it or to the execution's end.
 */
export class StatesError extends EngineError {
  public readonly error: string;
  public override readonly cause: string | undefined;
  /** Set for errors the engine itself detects while evaluating a state's fields (their cause gets AWS's prefix). */
  public readonly fromEvaluation: boolean;
  /** For States.QueryEvaluationError: the field at fault, e.g. `Output/result` (an EvaluationFailed event). */
  public readonly location: string | undefined;
  /** Terminal errors end the execution: no Retry or Catch applies (States.Runtime, an oversized state output). */
  public readonly terminal: boolean;
  /**
   * A Task that sent no heartbeat within HeartbeatSeconds. Its error is States.Timeout, as AWS names it; only
   * `States.HeartbeatTimeout` in a Retry or Catch tells it apart from a Task that ran past TimeoutSeconds.
   */
  public readonly heartbeatTimeout: boolean;

  public constructor(
    error: string,
    cause?: string,
    extra: { fromEvaluation?: boolean; location?: string; terminal?: boolean; heartbeatTimeout?: boolean } = {},
    options?: ErrorOptions,
  ) {
    super(cause ? `${error}: ${cause}` : error, options);
    this.name = 'StatesError';
    this.error = error;
    this.cause = cause;
    this.fromEvaluation = extra.fromEvaluation ?? false;
    this.location = extra.location;
    this.terminal = extra.terminal ?? error === 'States.Runtime';
    this.heartbeatTimeout = extra.heartbeatTimeout ?? false;
  }
}

/** A States.Runtime error detected while evaluating a field: never retried or caught. */
export function runtimeError(cause: string): StatesError {
  return new StatesError('States.Runtime', cause, { fromEvaluation: true });
}

/** A States.QueryEvaluationError: a JSONata expression failed or returned something unusable. */
export function queryError(cause: string, location: string): StatesError {
  return new StatesError('States.QueryEvaluationError', cause, { fromEvaluation: true, location });
}
