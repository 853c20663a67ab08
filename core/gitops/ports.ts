/**
 * The configuration repository, as the GitOps delivery talks to it (docs/adr/0103). Implemented with git on a
 * local bare repository (adapters/local/gitops-git.ts) and with the Git hosts' REST APIs (adapters/githost/
 * gitops-*.ts). Every method throws `GitOpsRepositoryError` (./errors.ts) with a reason, never a raw HTTP error, and
 * never puts a token in a message.
 */

export interface FileWrite {
  readonly path: string;
  /** Null: the file is deleted (a revert of a file the write created). */
  readonly content: string | null;
}

export interface CommitRequest {
  /** The branch the commit goes to. With `createBranch`, it is created at `parent`. */
  readonly branch: string;
  /** The commit the new one follows: the branch head read before the change was made. */
  readonly parent: string;
  readonly files: readonly FileWrite[];
  readonly message: string;
  readonly createBranch?: boolean;
}

export type PullRequestState = 'open' | 'merged' | 'closed';

export interface PullRequestInfo {
  readonly number: number;
  readonly url: string;
  readonly state: PullRequestState;
  /** The commit the merge made on the base branch; null until merged. */
  readonly mergeCommit: string | null;
  readonly head: string;
}

export interface PullRequestRequest {
  readonly head: string;
  readonly base: string;
  readonly title: string;
  readonly body: string;
}

/** A commit as the delivery inspects it: its parents (first parent first) and its whole message. */
export interface CommitInfo {
  readonly sha: string;
  readonly parents: readonly string[];
  readonly message: string;
}

export interface ConfigRepository {
  /** A name for messages: `local:deploy`, `github:acme/deploy`. */
  readonly label: string;
  /** The commit a branch points to; throws when there is no such branch. */
  head(branch: string): Promise<string>;
  /** A file's content at a commit or branch; null when the file does not exist there. */
  readFile(ref: string, path: string): Promise<string | null>;
  /** The files below a folder at a commit or branch, as paths from the repository root, sorted. */
  listFiles(ref: string, folder: string): Promise<string[]>;
  /**
   * Makes one commit of `files` on top of `parent` and moves the branch to it. Throws `GitOpsConflict` when the
   * branch no longer points to `parent` (someone pushed in between): the caller reads again and retries.
   */
  commit(request: CommitRequest): Promise<string>;
  /** The newest commit on the branch whose message carries every trailer, and its first parent. */
  findCommit(
    branch: string,
    trailers: Readonly<Record<string, string>>,
  ): Promise<{ readonly sha: string; readonly parent: string } | null>;
  /** The first parent of a commit (of a merge: the base branch before it); null for a root commit. */
  firstParent(sha: string): Promise<string | null>;
  openPullRequest(request: PullRequestRequest): Promise<PullRequestInfo>;
  /** The pull request from `head` (any state); null when there is none. */
  findPullRequest(head: string): Promise<PullRequestInfo | null>;
  closePullRequest(number: number, comment: string): Promise<void>;
  /**
   * The commit a branch points to; null when there is no such branch. With `history`, what a retried delivery needs
   * to adopt the pull-request branch an invocation that died made (ADR 0111). Git hosts only: the local repository,
   * which has no pull requests, leaves both out.
   */
  branchTip?(branch: string): Promise<CommitInfo | null>;
  /** The newest commits of a branch (the host's first page, at most 100), newest first. */
  history?(branch: string): Promise<readonly string[]>;
}

/** How the deploy functions reach configuration repositories: the Git host adapters on AWS, a bare repository locally. */
export interface GitOpsAccess {
  open(repository: { readonly provider: string; readonly name: string }): ConfigRepository;
  /** The run's link (the platform's short link, or the console's page); null when there is none. */
  runLink(executionName: string): string | null;
}
