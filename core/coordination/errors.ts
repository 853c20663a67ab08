import { SteplineError } from '../errors';
import { COORDINATION_ERRORS } from './contracts';

/** Another run holds the environment's deploy lock; the workflow retries with backoff. */
export class EnvironmentBusy extends SteplineError {
  public constructor(
    public readonly environmentKey: string,
    public readonly holder: string,
    public readonly leaseExpiresAt: number,
  ) {
    super(
      `environment ${environmentKey} is being deployed by ${holder} (lock held until ${new Date(leaseExpiresAt).toISOString()})`,
    );
    this.name = COORDINATION_ERRORS.environmentBusy;
  }
}

/** The event given to the coordination function is not a coordination request. */
export class CoordinationRequestInvalid extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = COORDINATION_ERRORS.invalidRequest;
  }
}
