import { SteplineError } from '../errors';

/** Base of the intake's errors. */
export class IntakeError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IntakeError';
  }
}

/**
 * A verified payload lacks a field the intake needs, or has it with the wrong type. The sender's error: it becomes
 * a 400 whose message names the field (`repository.full_name: expected a string`).
 */
export class MalformedPayloadError extends IntakeError {
  public readonly field: string;

  public constructor(field: string, expected: string, options?: ErrorOptions) {
    super(`body field ${field}: expected ${expected}`, options);
    this.name = 'MalformedPayloadError';
    this.field = field;
  }
}

/**
 * The workflow could not be started: StartExecution still failed after the SDK's retries (throttling, an outage,
 * a timeout) or was refused for a reason a replay may cure. The webhook parks the delivery when it sees this.
 */
export class WorkflowUnavailableError extends IntakeError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WorkflowUnavailableError';
  }
}

/** The webhook secrets could not be read (Secrets Manager unreachable, the secret missing or not understood). */
export class SecretsUnavailableError extends IntakeError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretsUnavailableError';
  }
}

/** A parked delivery could not be written to, or read from, the parking queue. */
export class ParkingError extends IntakeError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ParkingError';
  }
}
