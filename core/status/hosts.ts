import { createHash } from 'node:crypto';
import type { Provider } from '../config/schema';
import type { StatusSubject, StepState } from './contracts';
import type { DeploymentUpdate, StatusUpdate } from './plan';
import { truncate } from './text';

/**
 * Each Git host's status API as plain data: which request posts a status, which lists a commit's statuses, and
 * how the answer reads. No I/O here; a `HostTransport` (adapters/githost) sends the requests.
 *
 * - GitHub: `POST /repos/{owner}/{repo}/statuses/{sha}` {state, target_url, description, context};
 *   `GET /repos/{owner}/{repo}/commits/{sha}/status` (the latest status per context).
 * - GitLab: `POST /projects/:id/statuses/:sha` {state, ref, name, target_url, description}, `:id` the URL-encoded
 *   project path; `GET /projects/:id/repository/commits/:sha/statuses` (the latest per name).
 * - Bitbucket Cloud: `POST /repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build`
 *   {key, state, name, url, description, refname}; `GET …/commit/{commit}/statuses`.
 */

/** A request to a host's REST API, relative to its base URL (`https://api.github.com`, `…/api/v4`, `…/2.0`). */
export interface HostRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** The host's answer: status code and parsed JSON body (null when empty or not JSON). */
export interface HostResponse {
  readonly status: number;
  readonly body: unknown;
}

/**
 * The port through which the status code talks to one host. It adds the base URL, the credentials, timeouts and
 * retries; it answers with the final response (2xx or not), and throws `StatusDeliveryError` only when it got
 * no usable answer (network, timeout, or still 429/5xx after its retries).
 */
export interface HostTransport {
  readonly provider: Provider;
  /**
   * The transport authenticates as a GitHub App: statuses go through the Checks API as check runs (ADR 0091), which
   * only an App may write. Absent: commit statuses.
   */
  readonly checks?: boolean;
  send(request: HostRequest): Promise<HostResponse>;
}

/** A status found on the commit when reading back. */
export interface HostStatus {
  readonly context: string;
  readonly state: string;
  /** Not finished: pending or running. */
  readonly open: boolean;
}

export interface HostDialect {
  readonly provider: Provider;
  /** The longest description the host takes. */
  readonly maxDescription: number;
  /** The longest link the host takes (GitLab: 255), or null when it documents none. */
  readonly maxTargetUrl: number | null;
  hostState(state: StepState): string;
  statusRequest(subject: StatusSubject, update: StatusUpdate): HostRequest;
  listRequest(subject: StatusSubject): HostRequest;
  parseList(body: unknown): HostStatus[];
  /** The host refused the status because the commit already has it in that state (counts as delivered). */
  unchanged(response: HostResponse): boolean;
  /**
   * The host refused the status for its short ref alone (GitLab: a name that is both a branch and a tag): post it
   * again with the full ref.
   */
  ambiguousRef(response: HostResponse): boolean;
}

const notAboutTheRef = (): false => false;

function splitOwner(fullName: string): [string, string] {
  const slash = fullName.indexOf('/');
  if (slash <= 0 || slash === fullName.length - 1) return [fullName, ''];
  return [fullName.slice(0, slash), fullName.slice(slash + 1)];
}

function repoPath(fullName: string): string {
  const [owner, name] = splitOwner(fullName);
  return `${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
}

function records(body: unknown, key?: string): Record<string, unknown>[] {
  const list = key ? (body as Record<string, unknown> | null)?.[key] : body;
  return Array.isArray(list)
    ? list.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null)
    : [];
}

/**
 * The link a status carries on a host: its `targetUrl` where it fits the host's limit, else the first of its
 * shorter links that fits, else none (a status without a link beats a status the host refuses).
 */
export function linkWithin(update: StatusUpdate, max: number | null): string | null {
  const candidates = [update.targetUrl, ...(update.shorterUrls ?? [])];
  for (const url of candidates) if (url && (max === null || Array.from(url).length <= max)) return url;
  return null;
}

function messageOf(body: unknown): string {
  if (typeof body === 'string') return body;
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : JSON.stringify(message ?? '');
}

export const github: HostDialect = {
  provider: 'github',
  maxDescription: 140,
  maxTargetUrl: null,
  hostState(state) {
    switch (state) {
      case 'pending':
      case 'running':
        return 'pending';
      case 'success':
      case 'skipped':
        return 'success';
      case 'failure':
        return 'failure';
      case 'cancelled':
        return 'error';
    }
  },
  statusRequest(subject, update) {
    const body: Record<string, unknown> = {
      state: this.hostState(update.state),
      context: update.context,
      description: truncate(update.description, this.maxDescription),
    };
    const link = linkWithin(update, this.maxTargetUrl);
    if (link) body.target_url = link;
    return { method: 'POST', path: `/repos/${repoPath(subject.repository)}/statuses/${subject.sha}`, body };
  },
  listRequest(subject) {
    return {
      method: 'GET',
      path: `/repos/${repoPath(subject.repository)}/commits/${subject.sha}/status`,
      query: { per_page: '100' },
    };
  },
  parseList(body) {
    return records(body, 'statuses').map((s) => ({
      context: String(s.context ?? ''),
      state: String(s.state ?? ''),
      open: s.state === 'pending',
    }));
  },
  unchanged() {
    return false;
  },
  ambiguousRef: notAboutTheRef,
};

export const gitlab: HostDialect = {
  provider: 'gitlab',
  maxDescription: 255,
  // "target_url: Must be 255 characters or fewer" (GitLab's Commits API, "Set the pipeline status of a commit").
  maxTargetUrl: 255,
  hostState(state) {
    switch (state) {
      case 'pending':
        return 'pending';
      case 'running':
        return 'running';
      case 'success':
      case 'skipped':
        return 'success';
      case 'failure':
        return 'failed';
      case 'cancelled':
        return 'canceled';
    }
  },
  statusRequest(subject, update) {
    const body: Record<string, unknown> = {
      state: this.hostState(update.state),
      ref: subject.ref,
      name: update.context,
      description: truncate(update.description, this.maxDescription),
    };
    const link = linkWithin(update, this.maxTargetUrl);
    if (link) body.target_url = link;
    return {
      method: 'POST',
      path: `/projects/${encodeURIComponent(subject.repository)}/statuses/${subject.sha}`,
      body,
    };
  },
  listRequest(subject) {
    return {
      method: 'GET',
      path: `/projects/${encodeURIComponent(subject.repository)}/repository/commits/${subject.sha}/statuses`,
      query: { per_page: '100' },
    };
  },
  parseList(body) {
    return records(body).map((s) => ({
      context: String(s.name ?? ''),
      state: String(s.status ?? ''),
      open: s.status === 'pending' || s.status === 'running' || s.status === 'created',
    }));
  },
  unchanged(response) {
    // GitLab refuses pending → pending and running → running: "Cannot transition status via :enqueue from :pending".
    return response.status === 400 && /cannot transition status/i.test(messageOf(response.body));
  },
  ambiguousRef(response) {
    // "Ref is ambiguous - specify refs/heads/<name> or refs/tags/<name>" (GitLab's CreateCommitStatusService, 400).
    return response.status === 400 && /ref is ambiguous/i.test(messageOf(response.body));
  },
};

/** Bitbucket keys: letters, digits, `.`, `_`, `-`; at most 40 characters, a hash keeps long ones distinct. */
export function bitbucketKey(context: string): string {
  const key = context.replace(/[^A-Za-z0-9._-]+/g, '-');
  if (key.length <= 40) return key;
  const hash = createHash('sha256').update(context).digest('hex').slice(0, 8);
  return `${key.slice(0, 31)}-${hash}`;
}

export const bitbucket: HostDialect = {
  provider: 'bitbucket',
  maxDescription: 255,
  maxTargetUrl: null,
  hostState(state) {
    switch (state) {
      case 'pending':
      case 'running':
        return 'INPROGRESS';
      case 'success':
      case 'skipped':
        return 'SUCCESSFUL';
      case 'failure':
        return 'FAILED';
      case 'cancelled':
        return 'STOPPED';
    }
  },
  statusRequest(subject, update) {
    const body: Record<string, unknown> = {
      key: bitbucketKey(update.context),
      state: this.hostState(update.state),
      name: update.context,
      description: truncate(update.description, this.maxDescription),
      // Bitbucket requires a URL; without an execution, the commit itself.
      url:
        linkWithin(update, this.maxTargetUrl) ?? `https://bitbucket.org/${subject.repository}/commits/${subject.sha}`,
    };
    if (subject.pullRequest !== null) body.refname = subject.ref;
    return {
      method: 'POST',
      path: `/repositories/${repoPath(subject.repository)}/commit/${subject.sha}/statuses/build`,
      body,
    };
  },
  listRequest(subject) {
    return {
      method: 'GET',
      path: `/repositories/${repoPath(subject.repository)}/commit/${subject.sha}/statuses`,
      query: { pagelen: '100' },
    };
  },
  parseList(body) {
    return records(body, 'values').map((s) => ({
      context: String(s.name ?? s.key ?? ''),
      state: String(s.state ?? ''),
      open: s.state === 'INPROGRESS',
    }));
  },
  unchanged() {
    return false;
  },
  ambiguousRef: notAboutTheRef,
};

export const DIALECTS: Readonly<Record<Provider, HostDialect>> = { github, gitlab, bitbucket };

// ---- GitHub deployments ------------------------------------------------------------------------------------

/** GitHub deployment status states, from Stepline's. */
export function githubDeploymentState(state: DeploymentUpdate['state']): string {
  switch (state) {
    case 'pending':
      return 'queued';
    case 'running':
      return 'in_progress';
    case 'success':
      return 'success';
    case 'failure':
      return 'failure';
    case 'cancelled':
      return 'error';
  }
}

/** GitHub deployment states that end a deployment. */
export const GITHUB_DEPLOYMENT_FINAL = new Set(['success', 'failure', 'error', 'inactive']);

/** `GET /repos/{owner}/{repo}/deployments?sha=&environment=`: the deployments of this commit to one environment. */
export function listDeploymentsRequest(subject: StatusSubject, environment: string): HostRequest {
  return {
    method: 'GET',
    path: `/repos/${repoPath(subject.repository)}/deployments`,
    query: { sha: subject.sha, environment, per_page: '30' },
  };
}

/**
 * `POST /repos/{owner}/{repo}/deployments`: deploys the commit itself (`ref` = SHA), never merges
 * (`auto_merge: false`), and does not wait for other checks (`required_contexts: []`): Stepline's own statuses
 * are still pending while it deploys. The payload names the run, so that a later step finds this deployment.
 */
export function createDeploymentRequest(
  subject: StatusSubject,
  update: DeploymentUpdate,
  executionArn: string | null,
): HostRequest {
  return {
    method: 'POST',
    path: `/repos/${repoPath(subject.repository)}/deployments`,
    body: {
      ref: subject.sha,
      environment: update.environment,
      description: truncate(update.description, 140),
      auto_merge: false,
      required_contexts: [],
      transient_environment: false,
      payload: { stepline: { executionArn } },
    },
  };
}

/** `POST /repos/{owner}/{repo}/deployments/{id}/statuses`. */
export function deploymentStatusRequest(subject: StatusSubject, id: number, update: DeploymentUpdate): HostRequest {
  const body: Record<string, unknown> = {
    state: githubDeploymentState(update.state),
    description: truncate(update.description, 140),
    environment: update.environment,
  };
  if (update.logUrl) body.log_url = update.logUrl;
  if (update.environmentUrl) body.environment_url = update.environmentUrl;
  return { method: 'POST', path: `/repos/${repoPath(subject.repository)}/deployments/${id}/statuses`, body };
}

/** `GET /repos/{owner}/{repo}/deployments/{id}/statuses`: newest first. */
export function listDeploymentStatusesRequest(subject: StatusSubject, id: number): HostRequest {
  return {
    method: 'GET',
    path: `/repos/${repoPath(subject.repository)}/deployments/${id}/statuses`,
    query: { per_page: '1' },
  };
}

/** The id of the deployment that this run created, among a commit's deployments (payload as object or JSON text). */
export function findRunDeployment(body: unknown, executionArn: string | null): number | null {
  for (const deployment of records(body)) {
    let payload = deployment.payload;
    if (typeof payload === 'string') {
      try {
        payload = JSON.parse(payload);
      } catch {
        payload = null;
      }
    }
    const arn = (payload as { stepline?: { executionArn?: unknown } } | null)?.stepline?.executionArn;
    if (arn !== undefined && arn === executionArn && typeof deployment.id === 'number') return deployment.id;
  }
  return null;
}
