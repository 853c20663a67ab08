import type { SinkProvider, StatusStore } from '../../store/statuses';

/**
 * The local Git host status sink: the parts of the GitHub, GitLab and Bitbucket Cloud REST APIs that Stepline's
 * status functions call, answered from the runtime's state file. Without a host token, the runtime points
 * `STEPLINE_GITHUB_API_URL` (and the GitLab and Bitbucket ones) here, so the real status code runs end to end
 * and what it posted can be listed (CLI, console, `GET /api/statuses`).
 *
 * It behaves like the hosts where the status code depends on it:
 * - GitHub: `POST /repos/{owner}/{repo}/statuses/{sha}` (422 on an invalid state or a description over 140
 *   characters); `GET /repos/{owner}/{repo}/commits/{sha}/status` (the latest status per context); deployments
 *   and deployment statuses.
 * - GitLab: `POST /projects/:id/statuses/:sha` refuses pending → pending and running → running with GitLab's
 *   400; `GET /projects/:id/repository/commits/:sha/statuses` (latest per name).
 * - Bitbucket: `POST /repositories/{workspace}/{slug}/commit/{sha}/statuses/build` (one status per key,
 *   overwritten); `GET …/commit/{sha}/statuses`.
 *
 * Mounted paths (below the sink's own prefix): `/github`, `/gitlab/api/v4`, `/bitbucket/2.0`.
 * A GitLab project is its URL-encoded path, as the API takes it; a path decoded once on the way (the HTTP route
 * decodes it) routes the same, subgroups included.
 */

export interface SinkRequest {
  readonly method: string;
  /** The path below the sink's mount point, with its query. */
  readonly path: string;
  readonly body: unknown;
}

export interface SinkResponse {
  readonly status: number;
  readonly body: unknown;
}

export const SINK_BASES: Readonly<Record<SinkProvider, string>> = {
  github: '/github',
  gitlab: '/gitlab/api/v4',
  bitbucket: '/bitbucket/2.0',
};

const SHA = '([0-9a-fA-F]{40})';

function part(text: string): string {
  return decodeURIComponent(text);
}

function record(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export class GitHostSink {
  public constructor(private readonly store: StatusStore) {}

  /** The API base URL of a provider when the sink is mounted at `mountUrl` (e.g. `http://127.0.0.1:8080/githost`). */
  public static baseUrl(mountUrl: string, provider: SinkProvider): string {
    return `${mountUrl.replace(/\/+$/, '')}${SINK_BASES[provider]}`;
  }

  public handle(request: SinkRequest): SinkResponse {
    const url = new URL(request.path, 'http://sink');
    const path = url.pathname;
    for (const [provider, prefix] of Object.entries(SINK_BASES) as [SinkProvider, string][]) {
      if (path === prefix || path.startsWith(`${prefix}/`)) {
        const rest = path.slice(prefix.length);
        const query = Object.fromEntries(url.searchParams);
        switch (provider) {
          case 'github':
            return this.github(request.method, rest, query, record(request.body));
          case 'gitlab':
            return this.gitlab(request.method, rest, record(request.body));
          case 'bitbucket':
            return this.bitbucket(request.method, rest, record(request.body));
        }
      }
    }
    return { status: 404, body: { message: 'Not Found' } };
  }

  private github(
    method: string,
    path: string,
    query: Record<string, string>,
    b: Record<string, unknown>,
  ): SinkResponse {
    let m = new RegExp(`^/repos/([^/]+)/([^/]+)/statuses/${SHA}$`).exec(path);
    if (m && method === 'POST') {
      const repository = `${part(m[1]!)}/${part(m[2]!)}`;
      if (!['pending', 'success', 'failure', 'error'].includes(String(b['state']))) {
        return { status: 422, body: { message: 'Validation Failed', errors: [{ field: 'state', code: 'invalid' }] } };
      }
      const description = text(b['description']);
      if (description && Array.from(description).length > 140) {
        return {
          status: 422,
          body: { message: 'Validation Failed', errors: [{ field: 'description', code: 'too_long' }] },
        };
      }
      const saved = this.store.add({
        provider: 'github',
        repository,
        sha: m[3]!.toLowerCase(),
        context: text(b['context']) ?? 'default',
        state: String(b['state']),
        description,
        targetUrl: text(b['target_url']),
        ref: null,
        key: null,
      });
      return { status: 201, body: { id: saved.id, ...b, created_at: new Date(saved.createdAt).toISOString() } };
    }
    m = new RegExp(`^/repos/([^/]+)/([^/]+)/commits/${SHA}/status(es)?$`).exec(path);
    if (m && method === 'GET') {
      const repository = `${part(m[1]!)}/${part(m[2]!)}`;
      const latest = this.store.latest('github', repository, m[3]!.toLowerCase()).reverse();
      const statuses = latest.map((s) => ({
        id: s.id,
        context: s.context,
        state: s.state,
        description: s.description,
        target_url: s.targetUrl,
        created_at: new Date(s.createdAt).toISOString(),
      }));
      if (m[4]) return { status: 200, body: statuses };
      const states = statuses.map((s) => s.state);
      const state = states.some((s) => s === 'failure' || s === 'error')
        ? 'failure'
        : states.some((s) => s === 'pending') || states.length === 0
          ? 'pending'
          : 'success';
      return { status: 200, body: { sha: m[3], state, statuses, total_count: statuses.length } };
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/deployments$/.exec(path);
    if (m) {
      const repository = `${part(m[1]!)}/${part(m[2]!)}`;
      if (method === 'POST') {
        const d = this.store.addDeployment({
          provider: 'github',
          repository,
          sha: String(b['ref'] ?? ''),
          environment: String(b['environment'] ?? 'production'),
          body: b,
        });
        return {
          status: 201,
          body: { id: d.id, sha: d.sha, ref: d.sha, environment: d.environment, payload: b['payload'] ?? {} },
        };
      }
      const list = this.store
        .deployments(repository, {
          ...(query['sha'] ? { sha: query['sha'] } : {}),
          ...(query['environment'] ? { environment: query['environment'] } : {}),
        })
        .map((d) => ({
          id: d.id,
          sha: d.sha,
          ref: d.sha,
          environment: d.environment,
          payload: d.body['payload'] ?? {},
        }));
      return { status: 200, body: list };
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/.exec(path);
    if (m) {
      const id = Number(m[3]);
      const deployment = this.store.deployment(id);
      if (!deployment) return { status: 404, body: { message: 'Not Found' } };
      if (method === 'POST') {
        const status = { id: Date.now(), ...b, created_at: new Date().toISOString() };
        this.store.addDeploymentStatus(id, status);
        return { status: 201, body: status };
      }
      return { status: 200, body: [...deployment.statuses].reverse() };
    }
    return { status: 404, body: { message: 'Not Found' } };
  }

  private gitlab(method: string, path: string, b: Record<string, unknown>): SinkResponse {
    // A project is its URL-encoded path (`acme%2Fplatform%2Fbilling`); the HTTP route hands the path over decoded
    // once (`acme/platform/billing`), so a project is everything between `/projects/` and the endpoint's own end.
    let m = new RegExp(`^/projects/(.+)/statuses/${SHA}$`).exec(path);
    if (m && method === 'POST') {
      const repository = part(m[1]!);
      const sha = m[2]!.toLowerCase();
      const state = String(b['state']);
      if (!['pending', 'running', 'success', 'failed', 'canceled', 'skipped'].includes(state)) {
        return { status: 400, body: { message: 'state does not have a valid value' } };
      }
      const name = text(b['name']) ?? text(b['context']) ?? 'default';
      const current = this.store.latest('gitlab', repository, sha).find((s) => s.context === name);
      if (current && current.state === state && (state === 'pending' || state === 'running')) {
        const verb = state === 'pending' ? 'enqueue' : 'run';
        return {
          status: 400,
          body: {
            message: `Cannot transition status via :${verb} from :${state} (Reason(s): Status cannot transition via "${verb}")`,
          },
        };
      }
      const saved = this.store.add({
        provider: 'gitlab',
        repository,
        sha,
        context: name,
        state,
        description: text(b['description']),
        targetUrl: text(b['target_url']),
        ref: text(b['ref']),
        key: null,
      });
      return { status: 201, body: { id: saved.id, status: state, name, sha, ref: saved.ref } };
    }
    m = new RegExp(`^/projects/(.+)/repository/commits/${SHA}/statuses$`).exec(path);
    if (m && method === 'GET') {
      const list = this.store.latest('gitlab', part(m[1]!), m[2]!.toLowerCase()).map((s) => ({
        id: s.id,
        name: s.context,
        status: s.state,
        description: s.description,
        target_url: s.targetUrl,
        ref: s.ref,
      }));
      return { status: 200, body: list };
    }
    return { status: 404, body: { message: '404 Not Found' } };
  }

  private bitbucket(method: string, path: string, b: Record<string, unknown>): SinkResponse {
    let m = new RegExp(`^/repositories/([^/]+)/([^/]+)/commit/${SHA}/statuses/build$`).exec(path);
    if (m && method === 'POST') {
      const repository = `${part(m[1]!)}/${part(m[2]!)}`;
      if (!['INPROGRESS', 'SUCCESSFUL', 'FAILED', 'STOPPED'].includes(String(b['state'])) || !b['key'] || !b['url']) {
        return { status: 400, body: { type: 'error', error: { message: 'key, state and url are required' } } };
      }
      const saved = this.store.add({
        provider: 'bitbucket',
        repository,
        sha: m[3]!.toLowerCase(),
        context: text(b['name']) ?? String(b['key']),
        state: String(b['state']),
        description: text(b['description']),
        targetUrl: String(b['url']),
        ref: text(b['refname']),
        key: String(b['key']),
      });
      return { status: 201, body: { type: 'build', ...b, created_on: new Date(saved.createdAt).toISOString() } };
    }
    m = new RegExp(`^/repositories/([^/]+)/([^/]+)/commit/${SHA}/statuses$`).exec(path);
    if (m && method === 'GET') {
      const repository = `${part(m[1]!)}/${part(m[2]!)}`;
      const values = this.store.latest('bitbucket', repository, m[3]!.toLowerCase()).map((s) => ({
        type: 'build',
        key: s.key,
        name: s.context,
        state: s.state,
        description: s.description,
        url: s.targetUrl,
        refname: s.ref,
      }));
      return { status: 200, body: { values, pagelen: 100, size: values.length, page: 1 } };
    }
    return { status: 404, body: { type: 'error', error: { message: 'Resource not found' } } };
  }
}
