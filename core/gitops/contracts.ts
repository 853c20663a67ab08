/**
 * What a GitOps delivery hands to the rollout check, inside the watched controller object (`watch[].gitops` of
 * the deploy and rollback results, which the workflow passes on unchanged): docs/adr/0103.
 */
export interface GitOpsWatch {
  /** The configuration repository, for messages: `local:deploy`, `github:acme/deploy`. */
  readonly repository: string;
  readonly branch: string;
  /** The commit the controller must reach; null while the pull request is not merged. */
  readonly commit: string | null;
  /** pullRequest mode: the pull/merge request that carries the change; null in commit mode. */
  readonly pullRequest: { readonly number: number; readonly url: string; readonly head: string } | null;
  /** The files written, from the repository root. */
  readonly files: readonly string[];
}
