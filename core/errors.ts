/**
 * The one error hierarchy of Stepline. Every error the domain raises is a `SteplineError`; each subclass sets
 * its `name` and passes the cause on through `ErrorOptions`, so stack traces and logs read well.
 */
export class SteplineError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SteplineError';
  }
}

/** One problem found in a configuration document: where it is (a JSON path) and what is wrong. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** The pipeline configuration is missing, not JSON, or does not match the schema. */
export class ConfigError extends SteplineError {
  public readonly issues: readonly ConfigIssue[];

  public constructor(message: string, issues: readonly ConfigIssue[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
