import { SteplineError } from '../../../core/errors';
import type {
  ApprovalView,
  BuildLog,
  BuildSummary,
  CommitStatusView,
  ConsoleChange,
  DeploymentView,
  ExecutionDetail,
  ExecutionPage,
  HistoryPage,
} from '../source';

/** The console's JSON API, as the page reads it (its base comes from the page's `stepline-api` meta). */

export const API_BASE =
  document.querySelector('meta[name="stepline-api"]')?.getAttribute('content')?.replace(/\/+$/, '') ?? '/api/console';

export interface Sections {
  readonly builds: boolean;
  readonly logs: boolean;
  readonly statuses: boolean;
  readonly approvals: boolean;
  readonly decisions: boolean;
  readonly deployments: boolean;
}

export class ApiError extends SteplineError {
  public constructor(
    public readonly status: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}

/** The runtime's own API (`/api/runs`, `/api/runtime`), beside the console's (`/api/console`). */
export const RUNTIME_API = API_BASE.replace(/\/console$/, '');

async function request<T>(path: string, init?: RequestInit, base = API_BASE): Promise<T> {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { message: text };
  }
  if (!res.ok) {
    const message = (body as { message?: string }).message ?? `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message);
  }
  return body as T;
}

function post<T>(path: string, body: unknown, base = API_BASE): Promise<T> {
  return request<T>(
    path,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-stepline-console': '1' },
      body: JSON.stringify(body),
    },
    base,
  );
}

/** A repository the runtime runs pipelines for, with its branch and tag patterns (for the Run form). */
export interface RunnableRepository {
  readonly provider: string;
  readonly name: string;
  readonly branches: readonly { readonly pattern: string; readonly environments: readonly string[] }[];
  readonly tags: readonly { readonly pattern: string; readonly environments: readonly string[] }[];
}

/** What starting a run answers: the webhook's answer (`started`, or `duplicate` of a run that exists). */
export interface RunStarted {
  readonly status: 'started' | 'duplicate';
  readonly executionArn: string;
  readonly name: string;
}

let runtimeInfo: Promise<{ repositories: readonly RunnableRepository[] } | null> | undefined;

/** Runs by hand (the runtime's `/api/runs`): the repositories, or null where the console has no runtime behind it. */
export const runs = {
  repositories: () => {
    runtimeInfo ??= request<{ repositories?: RunnableRepository[] }>('/runtime', undefined, RUNTIME_API).then(
      (r) => (Array.isArray(r.repositories) ? { repositories: r.repositories } : null),
      () => null,
    );
    return runtimeInfo.then((r) => r?.repositories ?? null);
  },
  start: (body: { repository: string; ref: string; environments?: string[]; by: string | null }) =>
    post<RunStarted>(
      '/runs',
      {
        repository: body.repository,
        ref: body.ref,
        ...(body.environments?.length ? { environments: body.environments } : {}),
        ...(body.by ? { by: body.by } : {}),
      },
      RUNTIME_API,
    ),
  rerun: (executionArn: string, from: 'start' | 'failed', by: string | null) =>
    post<RunStarted>(
      `/executions/${encodeURIComponent(executionArn)}/rerun`,
      { ...(from === 'failed' ? { from } : {}), ...(by ? { by } : {}) },
      RUNTIME_API,
    ),
};

const arn = (value: string): string => encodeURIComponent(value);

export const api = {
  sections: () => request<{ sections: Sections }>('').then((r) => r.sections),
  executions: (q: { status?: string; repository?: string; limit?: number; next?: string }) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
    return request<ExecutionPage>(`/executions?${params}`);
  },
  execution: (a: string) => request<{ execution: ExecutionDetail }>(`/executions/${arn(a)}`).then((r) => r.execution),
  history: (a: string, after: number, limit = 1000) =>
    request<HistoryPage>(`/executions/${arn(a)}/history?after=${after}&limit=${limit}`),
  definition: (a: string) =>
    request<{ definition: unknown }>(`/executions/${arn(a)}/definition`).then((r) => r.definition),
  builds: (a: string) => request<{ builds: BuildSummary[] }>(`/executions/${arn(a)}/builds`).then((r) => r.builds),
  statuses: (a: string) =>
    request<{ statuses: CommitStatusView[] }>(`/executions/${arn(a)}/statuses`).then((r) => r.statuses),
  deployments: (a: string) =>
    request<{ deployments: DeploymentView[] }>(`/executions/${arn(a)}/deployments`).then((r) => r.deployments),
  approvalsOf: (a: string) =>
    request<{ approvals: ApprovalView[] }>(`/executions/${arn(a)}/approvals`).then((r) => r.approvals),
  pendingApprovals: () => request<{ approvals: ApprovalView[] }>('/approvals?status=waiting').then((r) => r.approvals),
  buildLog: (id: string, phase: string | null) =>
    request<{ log: BuildLog }>(`/builds/${encodeURIComponent(id)}/log${phase ? `?phase=${phase}` : ''}`).then(
      (r) => r.log,
    ),
  stop: (a: string) => post<{ execution: ExecutionDetail }>(`/executions/${arn(a)}/stop`, {}).then((r) => r.execution),
  redrive: (a: string) =>
    post<{ execution: ExecutionDetail }>(`/executions/${arn(a)}/redrive`, {}).then((r) => r.execution),
  /** `by`: the name the header shows; null where the source has no identity (it decides as its own default). */
  decide: (id: string, decision: 'approve' | 'reject', by: string | null, reason?: string) =>
    post<{ approval: ApprovalView }>(`/approvals/${encodeURIComponent(id)}/${decision}`, {
      ...(by ? { by } : {}),
      ...(reason ? { reason } : {}),
    }).then((r) => r.approval),
  identity: () => request<{ login: string | null }>('/identity').then((r) => r.login),
  setIdentity: (login: string) => post<{ login: string }>('/identity', { login }).then((r) => r.login),
};

type Listener = (changes: readonly ConsoleChange[]) => void;
const listeners = new Set<Listener>();
let source: EventSource | undefined;

/** The live stream: `connecting` until it first opens (nothing to say yet), `live`, or `lost` (it retries). */
export type Connection = 'connecting' | 'live' | 'lost';
const connection: { state: Connection } = { state: 'connecting' };
const connectionListeners = new Set<(state: Connection) => void>();

function connect(): void {
  if (source) return;
  source = new EventSource(`${API_BASE}/events`);
  source.addEventListener('changes', (e) => {
    const changes = JSON.parse((e as MessageEvent<string>).data) as ConsoleChange[];
    for (const l of listeners) l(changes);
  });
  const set = (state: Connection): void => {
    if (connection.state === state) return;
    connection.state = state;
    for (const l of connectionListeners) l(state);
  };
  source.addEventListener('open', () => set('live'));
  // EventSource retries by itself; while it does, the page says so (never before the first connection was made
  // or failed: the first seconds of a page are not a reconnection).
  source.addEventListener('error', () => set(source?.readyState === EventSource.OPEN ? 'live' : 'lost'));
}

/** Live changes (Server-Sent Events); returns a function that stops listening. */
export function onChanges(listener: Listener): () => void {
  connect();
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The live stream's state, now and on every change. */
export function onConnection(listener: (state: Connection) => void): () => void {
  connect();
  connectionListeners.add(listener);
  listener(connection.state);
  return () => connectionListeners.delete(listener);
}
