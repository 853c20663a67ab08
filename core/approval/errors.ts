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

/**
 * A sign-in with a Git host that did not give us a person: the host refused the code (`refused`: expired, used,
 * wrong verifier or redirect URI), or could not be reached (`unavailable`). The message names the host and the
 * step, never a code, a token or a secret.
 */
export class SignInError extends SteplineError {
  public constructor(
    public readonly kind: 'refused' | 'unavailable',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SignInError';
  }
}
