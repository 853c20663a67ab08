import { SteplineError } from '../errors';

/** An approval task event that does not fit its contract, or names an environment without approval. */
export class ApprovalRequestError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ApprovalRequestError';
  }
}

/** The approval signing keys are missing or too short. */
export class ApprovalKeyError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ApprovalKeyError';
  }
}
