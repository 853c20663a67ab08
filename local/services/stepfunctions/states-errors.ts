import { EngineApiError } from '../../engine';

/**
 * The Step Functions API errors that the local service answers besides the engine's own (engine/errors.ts). Each
 * `code` is the error's name in the API reference, which the SDK turns into the exception's `name`.
 */

export class StateMachineDoesNotExistError extends EngineApiError {
  public constructor(arn: string, options?: ErrorOptions) {
    super('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`, options);
    this.name = 'StateMachineDoesNotExistError';
  }
}

export class StateMachineAlreadyExistsError extends EngineApiError {
  public constructor(arn: string, options?: ErrorOptions) {
    super('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`, options);
    this.name = 'StateMachineAlreadyExistsError';
  }
}

export class InvalidArnError extends EngineApiError {
  public constructor(message: string, options?: ErrorOptions) {
    super('InvalidArn', message, options);
    this.name = 'InvalidArnError';
  }
}

export class ValidationError extends EngineApiError {
  public constructor(message: string, options?: ErrorOptions) {
    super('ValidationException', message, options);
    this.name = 'ValidationError';
  }
}

/** A logging level other than OFF with no destination, or more than one destination. */
export class InvalidLoggingConfigurationError extends EngineApiError {
  public constructor(message: string, options?: ErrorOptions) {
    super('InvalidLoggingConfiguration', message, options);
    this.name = 'InvalidLoggingConfigurationError';
  }
}

/** UpdateStateMachine with nothing to update. */
export class MissingRequiredParameterError extends EngineApiError {
  public constructor(message: string, options?: ErrorOptions) {
    super('MissingRequiredParameter', message, options);
    this.name = 'MissingRequiredParameterError';
  }
}

/** A tagging call on a resource that does not exist, or a map run that does not. */
export class ResourceNotFoundError extends EngineApiError {
  public constructor(message: string, options?: ErrorOptions) {
    super('ResourceNotFound', message, options);
    this.name = 'ResourceNotFoundError';
  }
}

/** More than 50 tags on a resource. `resourceName` is a member of the error's shape. */
export class TooManyTagsError extends EngineApiError {
  public constructor(
    message: string,
    public readonly resourceName: string,
    options?: ErrorOptions,
  ) {
    super('TooManyTags', message, options);
    this.name = 'TooManyTagsError';
  }
}

/** PublishStateMachineVersion with a revision id that is not the machine's current one. */
export class ConflictError extends EngineApiError {
  public constructor(message: string, options?: ErrorOptions) {
    super('ConflictException', message, options);
    this.name = 'ConflictError';
  }
}

/** An operation of the other type of state machine (StartSyncExecution on a STANDARD one). */
export class StateMachineTypeNotSupportedError extends EngineApiError {
  public constructor(message: string, options?: ErrorOptions) {
    super('StateMachineTypeNotSupported', message, options);
    this.name = 'StateMachineTypeNotSupportedError';
  }
}
