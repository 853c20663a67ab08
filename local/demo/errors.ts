import { SteplineError } from '../../core/errors';

/** The demo could not run: its sample repository, its runtime or its webhook failed before the pipeline did. */
export class DemoError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DemoError';
  }
}
