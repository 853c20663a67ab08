import { SteplineError } from '../errors';

/** An event for a status function that does not have the shape its contract (`contracts.ts`) says. */
export class StatusEventError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StatusEventError';
  }
}

/** A Git host could not be reached, or kept answering with an error, after the retries. */
export class StatusDeliveryError extends SteplineError {
  /** The host's last HTTP status, when it answered at all. */
  public readonly httpStatus: number | undefined;

  public constructor(message: string, httpStatus?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StatusDeliveryError';
    this.httpStatus = httpStatus;
  }
}
