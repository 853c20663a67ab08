import type { GitOpsWatch } from '../gitops/contracts';
import type { CommitInfo, RefInfo, RepositoryInfo, RouteEnvironment } from '../intake/types';
import type { StepInfo } from './strategies/contracts';
import type { KubernetesObject, ObjectRef } from './types';

/**
 * The contract between the workflow and the three deploy functions (`functions/deploy`, `functions/rollout`,
 * `functions/rollback`), which the workflow invokes with `lambda:invoke`. Events and results are plain JSON.
 *
 * The loop per environment, as `statemachines/pipeline.asl.json` runs it (rollout with `onWaiting` and
 * `onFailure` both `'throw'`, so no Choice state is needed):
 *
 * ```
 * Deploy ──▶ Wait(rollout.pollSeconds) ──▶ Rollout ──▶ (result: done) ──▶ release the lock, next environment
 *                    ▲                        ├─ Stepline.RolloutInProgress ─▶ back to Wait
 *                    └────────────────────────┘─ RolloutFailed ─▶ Rollback ─▶ the same loop on the rollback's
 *                                                                 `watch`, then Fail(Stepline.DeployFailed)
 * ```
 *
 * A Catch on Deploy for the Kubernetes errors also leads to Rollback (an apply may have half-succeeded; the
 * error message lists what was applied). Rollback throws `NoPreviousRevision` when the environment never
 * completed a rollout: nothing to go back to.
 */

/**
 * Environment variables of the three functions (infra sets them; functions/deploy/settings.ts reads them).
 */
export const DEPLOY_ENVIRONMENT_VARIABLES = {
  /** The region the functions run in, which Lambda sets: the region of an EKS cluster that names none. */
  region: 'AWS_REGION',
  /**
   * Path of a kubeconfig through which every environment's cluster is reached instead of its configured
   * one. Unset on AWS (a test of the bundles may point it at the simulated API server); the local runtime passes
   * its kubeconfig to the cluster access it builds.
   */
  kubeconfig: 'STEPLINE_KUBECONFIG',
  /** The context of that kubeconfig (default: its current context). */
  kubeContext: 'STEPLINE_KUBE_CONTEXT',
  /** Milliseconds a request to the API server may take (default 30000). */
  requestTimeoutMs: 'STEPLINE_KUBE_TIMEOUT_MS',
} as const;

/** The names of every error the three functions throw: Catch on these (`Error` of a Step Functions Catch). */
export const DEPLOY_ERROR_NAMES = {
  /** A rendered document is invalid or not allowed in this environment. Nothing was applied. */
  manifestInvalid: 'ManifestInvalid',
  /** The manifests location holds nothing at the environment's `manifests` path. Nothing was applied. */
  manifestsNotFound: 'ManifestsNotFound',
  /** DescribeCluster failed, or the kubeconfig/context cannot be used. Nothing was applied. */
  clusterLookupFailed: 'ClusterLookupFailed',
  /** 401 from the API server: the token was not accepted. */
  kubernetesUnauthorized: 'KubernetesUnauthorized',
  /** 403: the EKS access entry or RBAC does not allow a request; the message names verb, resource, namespace. */
  kubernetesForbidden: 'KubernetesForbidden',
  /** 409: server-side apply conflicts with another field manager, named in the message. */
  kubernetesConflict: 'KubernetesConflict',
  /** 400/404/422: the API server refused an object (a field, an unknown kind). */
  kubernetesRejected: 'KubernetesRejected',
  /** No answer or a 5xx: connection refused, DNS, TLS verification against the cluster's CA, server error. */
  kubernetesUnreachable: 'KubernetesUnreachable',
  /** A request to the API server timed out. */
  kubernetesTimeout: 'KubernetesTimeout',
  /** A rollout failed or missed its deadline (rollout with `onFailure: 'throw'`; also the workflow's Fail). */
  rolloutFailed: 'RolloutFailed',
  /** The rollout is still in progress (rollout with `onWaiting: 'throw'`): wait and check again. */
  rolloutInProgress: 'Stepline.RolloutInProgress',
  /** A canary or blue-green step's replicas are ready (rollout with `step`): measure and hold the step. */
  stepReady: 'Stepline.StepReady',
  /** Rollback found no revision of the environment that ever completed its rollout. */
  noPreviousRevision: 'NoPreviousRevision',
  /** A stored revision record cannot be decoded. */
  revisionUnreadable: 'RevisionUnreadable',
  /** The event itself lacks a field the function needs (a workflow definition error). */
  deployEventInvalid: 'DeployEventInvalid',
} as const;

/** Metric names of the three functions (namespace `Stepline`, dimension `environment`). */
export const DEPLOY_METRICS = {
  /** Objects applied by a deploy or rollback. */
  objectsApplied: 'objectsApplied',
  /** Objects that a deploy or rollback created or changed. */
  objectsChanged: 'objectsChanged',
  /** A rollout check answered done. */
  rolloutDone: 'rolloutDone',
  /** A rollout check answered failed. Alarm on it. */
  rolloutFailed: 'rolloutFailed',
  /** A rollback re-applied a revision. Alarm on it. */
  rollback: 'rollback',
  /** A function ended with one of DEPLOY_ERROR_NAMES; dimension `error`. */
  deployError: 'deployError',
} as const;

export type DeployErrorName = (typeof DEPLOY_ERROR_NAMES)[keyof typeof DEPLOY_ERROR_NAMES];

/** The errors after which the workflow should roll back: something may have been applied. */
export const ROLLBACK_AFTER_ERRORS: readonly DeployErrorName[] = [
  'KubernetesUnauthorized',
  'KubernetesForbidden',
  'KubernetesConflict',
  'KubernetesRejected',
  'KubernetesUnreachable',
  'KubernetesTimeout',
];

/** The parts of the pipeline request the deployer reads; a whole `PipelineRequest` fits. */
export interface DeployRequest {
  readonly commit: Pick<CommitInfo, 'sha'>;
  readonly repository: Pick<RepositoryInfo, 'fullName'>;
  /** The ref built; a tag whose name is a valid label value becomes `app.kubernetes.io/version`. */
  readonly ref?: Pick<RefInfo, 'name' | 'kind'>;
}

/** The image the build pushed. */
export interface ImageRef {
  /** Repository URI without tag: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api`. */
  readonly repository: string;
  /** `sha256:` and 64 hex digits, as the build exported it. */
  readonly digest: string;
  /**
   * Names of the containers that run this image. Default: every container whose image names the same
   * repository (URI or path, any tag), or whose name is the repository's last path segment (`api`).
   */
  readonly containers?: readonly string[];
}

/** Event of the deploy function. */
export interface DeployEvent {
  /** The Step Functions execution name, recorded on every object and in the revision record. */
  readonly executionName: string;
  readonly request: DeployRequest;
  readonly environment: RouteEnvironment;
  readonly image: ImageRef;
  /**
   * Where the build put its rendered manifests: `s3://bucket/prefix` on AWS, `file:///abs/path` locally.
   * The environment's `manifests` path is read below it: one file, or a folder of .yaml/.yml/.json files.
   */
  readonly manifestsLocation: string;
  /** Take over fields that another field manager owns (server-side apply `force`). Default false. */
  readonly force?: boolean;
}

export type ChangeKind = 'created' | 'configured' | 'unchanged';

/** An object that was applied, and what the apply did to it. */
export interface AppliedObject extends ObjectRef {
  readonly change: ChangeKind;
}

/** An object whose rollout the rollout function watches, with the generation the apply produced. */
export interface WatchedObject extends ObjectRef {
  readonly generation: number | null;
  /** A GitOps delivery's controller (Argo CD Application, Flux Kustomization): what it must converge on (ADR 0103). */
  readonly gitops?: GitOpsWatch;
}

/** When and how often the workflow checks the rollout. */
export interface RolloutSchedule {
  /** ISO-8601 instant after which a rollout that is not done counts as failed. */
  readonly deadline: string;
  /** The environment's `rollout.pollSeconds`: the Wait between two checks. */
  readonly pollSeconds: number;
}

/** Result of the deploy function. */
export interface DeployResult {
  readonly environment: string;
  readonly namespace: string;
  /** The revision number recorded for this deploy (its record waits for the rollout to be marked good). */
  readonly revision: number;
  /** The image reference written into the manifests: `repository@sha256:…`. */
  readonly image: string;
  /** Every object, in the order applied. */
  readonly applied: readonly AppliedObject[];
  /** How many objects were created or configured (the others were unchanged). */
  readonly changed: number;
  /** Workloads and custom resources to watch: pass to the rollout function. */
  readonly watch: readonly WatchedObject[];
  readonly rollout: RolloutSchedule;
  /**
   * With a canary or blue-green strategy (ADR 0067): the step this result set, or null when it promoted (or
   * deployed directly). Absent for a rolling update.
   */
  readonly step?: StepInfo | null;
  /** What the rollout check does once the promotion has rolled out: the canary or preview removed. */
  readonly finalize?: Finalize | null;
  /** With a strategy: `steps`, or `direct` with the reason (the first deploy: nothing to compare with). */
  readonly strategy?: {
    readonly type: 'canary' | 'blueGreen';
    readonly mode: 'steps' | 'direct';
    readonly reason: string;
  };
}

/** Objects a promotion applies and removes once its rollout is done (the rollout function does it). */
export interface Finalize {
  readonly apply: readonly KubernetesObject[];
  readonly delete: readonly ObjectRef[];
}

/** Event of the deploy function's `step` action: set step `index` of the pending revision (steps.length: promote). */
export interface StepEvent {
  readonly action: 'step';
  readonly executionName: string;
  readonly environment: RouteEnvironment;
  /** The revision the deploy recorded (`revision` of its result). */
  readonly revision: number;
  readonly index: number;
}

/** Event of the rollout function: one check. */
export interface RolloutEvent {
  readonly executionName: string;
  readonly environment: RouteEnvironment;
  /** `watch` from the deploy or rollback result. */
  readonly watch: readonly WatchedObject[];
  /** `rollout.deadline` from the deploy or rollback result. */
  readonly deadline: string;
  /** The revision to mark as the last good one when the rollout is done; null to mark nothing. */
  readonly revision: number | null;
  /** 'return' (default): a failed rollout is a result with `state: 'failed'`. 'throw': it throws RolloutFailed. */
  readonly onFailure?: 'return' | 'throw';
  /**
   * 'return' (default): a rollout in progress is a result with `state: 'waiting'`. 'throw': it throws
   * `Stepline.RolloutInProgress`, which the workflow catches to wait and check again.
   */
  readonly onWaiting?: 'return' | 'throw';
  /**
   * The step being checked (`step` of the deploy or step result): when done, the revision is not marked and
   * `Stepline.StepReady` is thrown for the workflow to measure the step. Null or absent: the final rollout.
   */
  readonly step?: StepInfo | null;
  /** Applied and removed once the final rollout is done (`finalize` of the promotion's result). */
  readonly finalize?: Finalize | null;
}

export type RolloutState = 'done' | 'waiting' | 'failed';

/** The rollout decision for one object. */
export interface ObjectRollout extends ObjectRef {
  readonly state: RolloutState;
  readonly reason: string;
}

/** Result of the rollout function. */
export interface RolloutResult {
  /** done: every object rolled out. waiting: check again after pollSeconds. failed: roll back. */
  readonly state: RolloutState;
  /** One line for the status report: the first failure, else the first object still waiting, else success. */
  readonly reason: string;
  readonly objects: readonly ObjectRollout[];
  readonly deadline: string;
  readonly pollSeconds: number;
  /** ISO-8601 instant of this check. */
  readonly checkedAt: string;
  /** The revision marked as last good (when done), else null. */
  readonly recordedRevision: number | null;
}

/** Event of the rollback function. */
export interface RollbackEvent {
  readonly executionName: string;
  readonly environment: RouteEnvironment;
  /** The revision that failed (`revision` of the deploy result), marked failed; null when deploy threw. */
  readonly failedRevision: number | null;
  /** Why the workflow rolls back, recorded on the failed revision: the rollout reason or the error name. */
  readonly reason?: string;
}

/** Result of the rollback function. */
export interface RollbackResult {
  readonly environment: string;
  readonly namespace: string;
  /** The revision re-applied: the last one whose rollout completed. */
  readonly revision: number;
  readonly commit: string;
  /** The image that revision deployed: `repository@sha256:…`. */
  readonly image: string;
  readonly applied: readonly AppliedObject[];
  readonly changed: number;
  /** Pass to the rollout function (with `revision`) to wait for the rollback's rollout. */
  readonly watch: readonly WatchedObject[];
  readonly rollout: RolloutSchedule;
  /**
   * Objects that the failed revision applied and the restored one does not contain. Rollback leaves them in
   * place (it never deletes); they are listed so that a person can decide.
   */
  readonly leftover: readonly ObjectRef[];
}
