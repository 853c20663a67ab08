/**
 * The errors of the GitOps delivery. Their names are what the workflow's Catch sees (`Error`): none of them is in
 * the Deploy state's rollback list, since a failed write changed nothing; they end the environment as a failure.
 */

/** The configuration repository or its host refused or could not be reached (the reason names which). */
export class GitOpsRepositoryError extends Error {
  override readonly name: string = 'GitOpsRepositoryFailed';
}

/** The branch moved between the read and the commit. */
export class GitOpsConflict extends GitOpsRepositoryError {
  override readonly name = 'GitOpsConflict';
}

/** A revert cannot be made: the file changed after Stepline's write. Nothing was reverted. */
export class GitOpsRevertRefused extends Error {
  override readonly name = 'GitOpsRevertRefused';
}

/** The environment names a GitOps delivery but this deployment has no access to configuration repositories. */
export class GitOpsNotConfigured extends Error {
  override readonly name = 'GitOpsNotConfigured';
}
