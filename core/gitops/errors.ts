import { SteplineError } from '../errors';

/**
 * The errors of the GitOps delivery. Their names are what the workflow's Catch sees (`Error`): none of them is in
 * the Deploy state's rollback list, since a failed write changed nothing; they end the environment as a failure.
 */

/** The configuration repository or its host refused or could not be reached (the reason names which). */
export class GitOpsRepositoryError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GitOpsRepositoryFailed';
  }
}

/** The branch moved between the read and the commit. */
export class GitOpsConflict extends GitOpsRepositoryError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GitOpsConflict';
  }
}

/** A revert cannot be made: the file changed after Stepline's write. Nothing was reverted. */
export class GitOpsRevertRefused extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GitOpsRevertRefused';
  }
}

/** The environment names a GitOps delivery but this deployment has no access to configuration repositories. */
export class GitOpsNotConfigured extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GitOpsNotConfigured';
  }
}

/** The file cannot take the write: not YAML, no marker, a value that is not a scalar. Nothing is written. */
export class WriteBackError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GitOpsWriteBackFailed';
  }
}
