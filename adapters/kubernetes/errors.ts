import { ApiException } from '@kubernetes/client-node';
import {
  KubernetesConflict,
  type KubernetesError,
  KubernetesForbidden,
  KubernetesRejected,
  KubernetesTimeout,
  KubernetesUnauthorized,
  KubernetesUnreachable,
} from '../../core/deploy/errors';
import { describeRef, type ObjectRef } from '../../core/deploy/types';

/**
 * Turns what @kubernetes/client-node throws (ApiException with the API server's Status, node-fetch's
 * FetchError with a system or TLS error code, AbortError on timeout) into the deployer's errors, with
 * messages that name the cause and what to do about it. Never includes a token or a request body.
 */

export interface RequestContext {
  /** What Stepline was doing: `apply`, `read`, `list`, `create`, `delete`, `discover`. */
  readonly action: string;
  readonly object?: ObjectRef;
  /** The API server URL. */
  readonly server: string;
  /** Who Stepline is to the cluster, for hints: `the IAM role of the deploy function`, `the kubeconfig user "ci"`. */
  readonly identity?: string;
}

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: { field?: string; message?: string }[] };
}

function statusBody(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as unknown;
      return typeof parsed === 'object' && parsed !== null ? (parsed as StatusBody) : { message: body.slice(0, 500) };
    } catch {
      return { message: body.slice(0, 500) };
    }
  }
  return typeof body === 'object' && body !== null ? (body as StatusBody) : {};
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

function what(context: RequestContext): string {
  return context.object ? `${context.action} ${describeRef(context.object)}` : context.action;
}

/** The names of the field managers in a 409 message: `conflict with "helm" using apps/v1`. */
export function conflictingManagers(message: string): string[] {
  const names = new Set<string>();
  for (const match of message.matchAll(/conflicts? with "([^"]+)"/g)) names.add(match[1]!);
  return [...names];
}

export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The API groups EKS's AmazonEKSEditPolicy grants (the EKS user guide's access policy reference): an object of another
 * group, a custom resource such as an Argo CD Application, can only be granted through RBAC.
 */
const EDIT_POLICY_GROUPS = new Set([
  '',
  'apps',
  'autoscaling',
  'batch',
  'discovery.k8s.io',
  'extensions',
  'networking.k8s.io',
  'policy',
]);

function forbiddenHint(identity: string, object: ObjectRef | null): string {
  const group = object?.apiVersion.includes('/') ? object.apiVersion.split('/')[0]! : '';
  if (object && !EDIT_POLICY_GROUPS.has(group)) {
    return `Grant ${identity} this permission with an RBAC Role and RoleBinding for its Kubernetes user or group: EKS access policies such as AmazonEKSEditPolicy do not cover the API group ${group}. For the GitOps controllers, apply the stack's GitOpsReaderRbac output (docs/adr/0108).`;
  }
  return `Grant ${identity} this permission: on EKS with an access policy association (aws eks associate-access-policy, e.g. AmazonEKSEditPolicy for the namespace) or an RBAC Role and RoleBinding for its Kubernetes user or group.`;
}

export function toKubernetesError(error: unknown, context: RequestContext): KubernetesError | Error {
  const object = context.object ?? null;
  const identity = context.identity ?? "Stepline's identity";
  if (error instanceof ApiException) {
    const code = Number(error.code);
    const body = statusBody(error.body);
    const serverMessage = body.message ?? `HTTP ${code}`;
    const details = { object, status: code };
    if (code === 401) {
      return new KubernetesUnauthorized(
        `The API server ${context.server} did not accept the credentials of ${identity} (401 Unauthorized) to ${what(context)}. On EKS, the role needs an access entry on the cluster (aws eks create-access-entry); with a kubeconfig, its token or certificate is not valid (expired?).`,
        details,
      );
    }
    if (code === 403) {
      return new KubernetesForbidden(
        `${serverMessage} (403, while trying to ${what(context)}). ${forbiddenHint(identity, object)}`,
        details,
      );
    }
    if (code === 409) {
      const managers = conflictingManagers(serverMessage);
      const hint =
        managers.length > 0
          ? ` Field manager${managers.length > 1 ? 's' : ''} ${managers.map((m) => `"${m}"`).join(', ')} own${managers.length > 1 ? '' : 's'} these fields: set them to the same values in the manifests, remove them from the manifests, or deploy with force to take them over.`
          : '';
      return new KubernetesConflict(`${serverMessage} (409, while trying to ${what(context)}).${hint}`, {
        ...details,
        managers,
      });
    }
    if (code === 429 || code >= 500) {
      return new KubernetesUnreachable(
        `The API server ${context.server} answered ${code} to ${what(context)}: ${serverMessage}`,
        details,
      );
    }
    const causes =
      body.details?.causes?.map((c) => [c.field, c.message].filter(Boolean).join(': ')).filter(Boolean) ?? [];
    const extra = causes.length > 0 && !serverMessage.includes(causes[0]!) ? ` (${causes.join('; ')})` : '';
    return new KubernetesRejected(
      `The API server refused to ${what(context)} (${code} ${body.reason ?? ''}): ${serverMessage}${extra}`.replace(
        ' )',
        ')',
      ),
      details,
    );
  }
  if (error instanceof Error) {
    const code = errorCode(error);
    if (
      error.name === 'AbortError' ||
      error.name === 'TimeoutError' ||
      code === 'ETIMEDOUT' ||
      code === 'ESOCKETTIMEDOUT'
    ) {
      return new KubernetesTimeout(
        `The API server ${context.server} did not answer in time to ${what(context)}`,
        { object },
        { cause: error },
      );
    }
    if (code && TLS_CODES.has(code)) {
      return new KubernetesUnreachable(
        `The TLS certificate of ${context.server} is not one the cluster's certificate authority signed (${code}) when trying to ${what(context)}; Stepline always verifies it: check the cluster's CA data and endpoint`,
        { object },
        { cause: error },
      );
    }
    if (code && /^E[A-Z]+$/.test(code)) {
      return new KubernetesUnreachable(
        `Cannot reach the API server ${context.server} (${code}) to ${what(context)}`,
        { object },
        { cause: error },
      );
    }
    if (error.message.startsWith('Unrecognized API version and kind')) {
      return new KubernetesRejected(
        `The cluster does not serve ${object ? `${object.kind} in ${object.apiVersion}` : 'this kind'} (${what(context)}): is its CustomResourceDefinition installed?`,
        { object, status: 404 },
        { cause: error },
      );
    }
  }
  return error instanceof Error ? error : new Error(String(error));
}
