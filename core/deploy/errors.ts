import { SteplineError } from '../errors';
import type { AppliedObject } from './contracts';
import { type DocumentSource, describeRef, describeSource, type ObjectRef } from './types';

/**
 * The errors of the deployer. Their `name`s are a contract: the workflow Catches on them (see
 * `DEPLOY_ERROR_NAMES` in contracts.ts), so a name never changes. Messages name the cause: the document and
 * field, the permission that is missing, the other field manager. Errors raised while applying also carry the
 * objects applied before the failure (`applied`) and say so in the message, since a Lambda error reaches the
 * workflow as name and message only.
 */

/** One problem in one manifest document. */
export interface ManifestIssue {
  readonly source: DocumentSource;
  /** `Deployment web`, when the document got that far. */
  readonly object: string | null;
  /** A dotted path: `metadata.name`, `spec.template.spec.containers[0].image`; empty for the whole document. */
  readonly field: string;
  readonly message: string;
}

function formatIssue(issue: ManifestIssue): string {
  const where = issue.object ? `${describeSource(issue.source)} (${issue.object})` : describeSource(issue.source);
  return issue.field ? `${where}: ${issue.field} ${issue.message}` : `${where}: ${issue.message}`;
}

const MAX_LISTED_ISSUES = 20;

/** The rendered manifests cannot be deployed: found before anything is applied. */
export class ManifestInvalid extends SteplineError {
  public readonly issues: readonly ManifestIssue[];

  public constructor(issues: readonly ManifestIssue[], options?: ErrorOptions) {
    const shown = issues.slice(0, MAX_LISTED_ISSUES).map((issue) => `- ${formatIssue(issue)}`);
    const more = issues.length > MAX_LISTED_ISSUES ? [`- and ${issues.length - MAX_LISTED_ISSUES} more`] : [];
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super([`The manifests have ${count}; nothing was applied:`, ...shown, ...more].join('\n'), options);
    this.name = 'ManifestInvalid';
    this.issues = issues;
  }
}

/** The manifests location holds no manifests at the environment's `manifests` path, or cannot be read. */
export class ManifestsNotFound extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ManifestsNotFound';
  }
}

/** The cluster named by the environment cannot be looked up (EKS DescribeCluster failed, kubeconfig unusable). */
export class ClusterLookupFailed extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClusterLookupFailed';
  }
}

function appliedSuffix(applied: readonly AppliedObject[]): string {
  if (applied.length === 0) return ' Nothing was applied before this failure.';
  const list = applied.map((object) => `${describeRef(object)} (${object.change})`).join(', ');
  return ` Applied before this failure: ${list}.`;
}

/** Base of the errors the Kubernetes API causes; `applied` lists what this call applied before it failed. */
export abstract class KubernetesError extends SteplineError {
  public readonly applied: readonly AppliedObject[];
  /** The object the failing request was about, when there was one. */
  public readonly object: ObjectRef | null;
  /** The HTTP status of the API server's answer; null when there was no answer. */
  public readonly status: number | null;

  protected constructor(
    message: string,
    details: { object?: ObjectRef | null; status?: number | null; applied?: readonly AppliedObject[] },
    options?: ErrorOptions,
  ) {
    const applied = details.applied ?? [];
    const sentence = /[.!?)]$/.test(message) ? message : `${message}.`;
    super(details.applied ? `${sentence}${appliedSuffix(applied)}` : message, options);
    this.name = 'KubernetesError';
    this.applied = applied;
    this.object = details.object ?? null;
    this.status = details.status ?? null;
  }

  /** The same error, its message extended with the objects applied before it. */
  public abstract withApplied(applied: readonly AppliedObject[]): KubernetesError;
}

type Details = { object?: ObjectRef | null; status?: number | null; applied?: readonly AppliedObject[] };

/** 401: the API server did not accept the credentials (an expired token, an IAM identity EKS does not know). */
export class KubernetesUnauthorized extends KubernetesError {
  public constructor(message: string, details: Details = {}, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'KubernetesUnauthorized';
  }
  public withApplied(applied: readonly AppliedObject[]): KubernetesUnauthorized {
    return new KubernetesUnauthorized(this.message, { ...this, applied }, { cause: this.cause });
  }
}

/** 403: authenticated, but the EKS access entry or the RBAC binding does not allow the request. */
export class KubernetesForbidden extends KubernetesError {
  public constructor(message: string, details: Details = {}, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'KubernetesForbidden';
  }
  public withApplied(applied: readonly AppliedObject[]): KubernetesForbidden {
    return new KubernetesForbidden(this.message, { ...this, applied }, { cause: this.cause });
  }
}

/** 409: server-side apply found fields that another field manager owns (`managers` names them). */
export class KubernetesConflict extends KubernetesError {
  public readonly managers: readonly string[];

  public constructor(
    message: string,
    details: Details & { managers?: readonly string[] } = {},
    options?: ErrorOptions,
  ) {
    super(message, details, options);
    this.name = 'KubernetesConflict';
    this.managers = details.managers ?? [];
  }
  public withApplied(applied: readonly AppliedObject[]): KubernetesConflict {
    return new KubernetesConflict(this.message, { ...this, applied }, { cause: this.cause });
  }
}

/** 400/404/422: the API server refused the object itself (a field it rejects, a kind it does not serve). */
export class KubernetesRejected extends KubernetesError {
  public constructor(message: string, details: Details = {}, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'KubernetesRejected';
  }
  public withApplied(applied: readonly AppliedObject[]): KubernetesRejected {
    return new KubernetesRejected(this.message, { ...this, applied }, { cause: this.cause });
  }
}

/** No answer: connection refused, DNS, a certificate that the cluster's CA did not sign, a 5xx. */
export class KubernetesUnreachable extends KubernetesError {
  public constructor(message: string, details: Details = {}, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'KubernetesUnreachable';
  }
  public withApplied(applied: readonly AppliedObject[]): KubernetesUnreachable {
    return new KubernetesUnreachable(this.message, { ...this, applied }, { cause: this.cause });
  }
}

/** A request to the API server took longer than the client allows. */
export class KubernetesTimeout extends KubernetesError {
  public constructor(message: string, details: Details = {}, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'KubernetesTimeout';
  }
  public withApplied(applied: readonly AppliedObject[]): KubernetesTimeout {
    return new KubernetesTimeout(this.message, { ...this, applied }, { cause: this.cause });
  }
}

/** The rollout failed or missed its deadline (thrown by the rollout function when asked to throw). */
export class RolloutFailed extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RolloutFailed';
  }
}

/**
 * The rollout is still in progress (thrown by the rollout function when the event asks for it with
 * `onWaiting: 'throw'`): the workflow catches it, waits `pollSeconds` and checks again, one state transition
 * fewer per check than a Choice on the result.
 */
export class RolloutInProgress extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'Stepline.RolloutInProgress';
  }
}

/**
 * A canary or blue-green step's replicas are ready (thrown by the rollout function for a check of a step): the
 * workflow's cue to measure and hold the step, not a failure. ADR 0067.
 */
export class StepReady extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'Stepline.StepReady';
  }
}

/** Rollback found no revision of this environment that completed its rollout. */
export class NoPreviousRevision extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NoPreviousRevision';
  }
}

/** A revision record exists but cannot be decoded. */
export class RevisionUnreadable extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RevisionUnreadable';
  }
}

/** The event of a deploy function lacks a field it needs. */
export class DeployEventInvalid extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeployEventInvalid';
  }
}
