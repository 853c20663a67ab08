import { SteplineError } from '../errors';
import { COORDINATION_ERRORS } from './contracts';

/** Another run holds the environment's deploy lock; the workflow retries with backoff. */
export class EnvironmentBusy extends SteplineError {
  public constructor(
    public readonly environmentKey: string,
    public readonly holder: string,
    public readonly leaseExpiresAt: number,
    options?: ErrorOptions,
  ) {
    super(
      `environment ${environmentKey} is being deployed by ${holder} (lock held until ${new Date(leaseExpiresAt).toISOString()})`,
      options,
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

/** The run may not deploy to the environment any more: superseded by a newer run of its branch, or overtaken. */
export class RunCancelled extends SteplineError {
  public constructor(
    kind: 'superseded' | 'overtaken',
    public readonly by: string,
    environmentKey: string,
    options?: ErrorOptions,
  ) {
    super(
      kind === 'superseded'
        ? `superseded by ${by}, a newer run of the same branch`
        : `not deploying to ${environmentKey}: ${by}, a newer run, already deployed there`,
      options,
    );
    this.name = kind === 'superseded' ? COORDINATION_ERRORS.superseded : COORDINATION_ERRORS.overtaken;
  }
}
