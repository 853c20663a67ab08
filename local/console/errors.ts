import { SteplineError } from '../../core/errors';

/**
 * An error with an HTTP status and a code, answered as JSON `{ error, message }`: the local server's own, so that the
 * console's routes and the server's answer their refusals alike.
 */
export { HttpError } from '../server/http';

/** What went wrong with a console action, as a code the HTTP layer turns into a status. */
export type ConsoleErrorCode = 'not_found' | 'conflict' | 'forbidden' | 'invalid' | 'unavailable';

const STATUS: Readonly<Record<ConsoleErrorCode, number>> = {
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

/** An action the console asked for (stop, redrive, approve, reject) that cannot be done, and why. */
export class ConsoleActionError extends SteplineError {
  public readonly code: ConsoleErrorCode;

  public constructor(code: ConsoleErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConsoleActionError';
    this.code = code;
  }

  /** The HTTP status of this error. */
  public get status(): number {
    return STATUS[this.code];
  }
}

/** The console's bundle could not be built (esbuild failed): the page says so instead of a blank screen. */
export class ConsoleBundleError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConsoleBundleError';
  }
}
