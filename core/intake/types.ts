import type { GitOpsDelivery } from '../config/delivery';
import type { Cluster, Provider, TestSuite } from '../config/schema';
import type { RouteStrategy } from '../deploy/strategies/plan';

/**
 * The contract between the intake and everything downstream of it: a Git host's delivery, verified and
 * normalized (`PipelineRequest`), the plan the configuration makes of it (`Route`), and the input of a pipeline
 * execution (`ExecutionInput`). The workflow definition, the deploy, status and approval functions all read
 * these shapes; change them only together.
 */

export type RefKind = 'branch' | 'tag';

export type PullRequestAction = 'opened' | 'synchronize' | 'reopened' | 'closed';

export interface RepositoryInfo {
  /** Full name as the Git host spells it: `owner/name`, GitLab `group/sub/name`, Bitbucket `workspace/slug`. */
  readonly fullName: string;
  /** HTTPS clone URL. */
  readonly cloneUrl: string;
  readonly defaultBranch: string;
  /** The repository's web page, when the payload gives it. */
  readonly htmlUrl: string | null;
}

export interface RefInfo {
  /** Short name: `main`, `release/1.2`, `v1.2.0`. For a pull request, the head branch. */
  readonly name: string;
  /** Full name: `refs/heads/main`, `refs/tags/v1.2.0`; for a pull request, `refs/pull/<n>/head` (GitHub) or the host's equivalent. */
  readonly fullName: string;
  readonly kind: RefKind;
}

export interface CommitInfo {
  /** The commit the pipeline builds (40 hex digits). */
  readonly sha: string;
  /** The commit the ref pointed at before the push; null when unknown or when the ref is new. */
  readonly before: string | null;
  /** Head commit message, first 1,000 characters; null when the payload has none. */
  readonly message: string | null;
  readonly url: string | null;
}

export interface PullRequestInfo {
  readonly number: number;
  readonly action: PullRequestAction;
  readonly title: string;
  readonly url: string | null;
  readonly base: { readonly ref: string; readonly sha: string | null };
  readonly head: { readonly ref: string; readonly sha: string; readonly repository: string };
  /** The head lives in another repository: such a run never deploys and never sees secrets. */
  readonly fork: boolean;
}

export interface ChangedFiles {
  /** Paths added, modified or removed, relative to the repository root, without duplicates. */
  readonly paths: readonly string[];
  /**
   * Whether `paths` is the whole change. False when the payload lists no files (pull requests, Bitbucket) or
   * truncates the list (GitHub lists at most 20 commits, GitLab at most 20): path filters then let the run go.
   */
  readonly complete: boolean;
}

export interface PipelineRequest {
  readonly provider: Provider;
  /** The host's delivery id: GitHub `X-GitHub-Delivery`, GitLab `Idempotency-Key` / `X-Gitlab-Event-UUID`, Bitbucket `X-Request-UUID`. */
  readonly deliveryId: string;
  /** The host's event name as sent (`push`, `pull_request`, `Push Hook`, `repo:push`, ...). */
  readonly event: string;
  readonly repository: RepositoryInfo;
  readonly ref: RefInfo;
  readonly commit: CommitInfo;
  readonly pullRequest: PullRequestInfo | null;
  readonly changedFiles: ChangedFiles;
  readonly sender: { readonly login: string };
}

/** An environment as a route resolves it: the configured environment with its name and defaults applied. */
export interface RouteEnvironment {
  readonly name: string;
  readonly cluster: Cluster;
  readonly namespace: string;
  readonly allowedNamespaces: readonly string[];
  readonly clusterScopedKinds: readonly string[];
  readonly manifests: string;
  readonly url: string | null;
  /** Null when the environment deploys without approval. */
  readonly approval: {
    readonly approvers: readonly string[];
    readonly timeoutSeconds: number;
    /** Whether the person who pushed the commit may approve it. Absent (older inputs): no. */
    readonly allowSelfApproval?: boolean;
  } | null;
  readonly rollout: { readonly timeoutSeconds: number; readonly pollSeconds: number };
  /** Absent for a rolling update (the default); a canary or blue-green rollout otherwise (ADR 0067). */
  readonly strategy?: RouteStrategy;
  /** Absent: Stepline applies. `gitops`: written to a configuration repository for Argo CD or Flux (ADR 0102). */
  readonly delivery?: GitOpsDelivery;
}

export type TriggerKind = 'branch' | 'tag' | 'pull_request';

/** What the configuration makes of one request: which steps run and where the commit is promoted. */
export interface Route {
  /** The configured repository's name. */
  readonly repository: string;
  readonly trigger: TriggerKind;
  /** The configured pattern that matched (branch or tag glob; for pull requests, the base-branch glob). */
  readonly pattern: string;
  /** `buildspec` is absent when the repository names none: the build project's own buildspec runs (ADR 0064). */
  readonly build: { readonly buildspec?: string; readonly imageRepository: string; readonly timeoutMinutes: number };
  readonly tests: readonly TestSuite[];
  /** Environments in promotion order. Always empty for pull requests. */
  readonly environments: readonly RouteEnvironment[];
  /** Whether the run may use the repository's secrets (false for pull requests from forks). */
  readonly secrets: boolean;
  /**
   * Runs with the same key supersede each other: a newer run cancels an older one that has not started
   * deploying. `<provider>:<repository>:<full ref>`.
   */
  readonly concurrencyKey: string;
}

/** The input of one pipeline execution, as the webhook function starts it. */
export interface ExecutionInput {
  readonly request: PipelineRequest;
  readonly route: Route;
  /**
   * Set when the route's path filter found no relevant change: the execution only reports every context the
   * route declares as passed ("skipped: no changes under …"), so required checks never wait, and ends.
   */
  readonly skip?: { readonly reason: string };
  /**
   * Set to promote an image built before instead of building (a re-run from the failed environment, ADR 0106):
   * the workflow goes from registering the run to the route's environments, deploying this image by digest.
   */
  readonly prebuilt?: Prebuilt;
  /**
   * Set when another CI built the image and handed it off (`POST /webhooks/generic`, docs/adr/0100); `prebuilt`
   * then carries its image. With `tests`, the route's suites run before the promotion; without, none do.
   */
  readonly handoff?: { readonly source: string; readonly tests: boolean };
}

/** An image built before, and what the run that built it reported of its build and tests. */
export interface Prebuilt {
  /** As the build exported it: the repository URI and the digest the environments deploy. */
  readonly image: { readonly repository: string; readonly digest: string };
  /** Where that build put the rendered manifests, or null. */
  readonly manifestsLocation: string | null;
  /** That build's id and log, reported again on the build context; null when not known. */
  readonly build: { readonly id: string | null; readonly logUrl: string | null } | null;
  /** That run's test results, reported again on their contexts. */
  readonly tests: readonly { readonly suite: string; readonly state: string; readonly logUrl?: string | null }[];
  /** The execution that built it. */
  readonly from: string;
}
