import { createVerify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A recording stand-in for the status APIs of GitHub, GitLab and Bitbucket Cloud, on 127.0.0.1. It records every
 * request (method, path, query, headers, JSON body), keeps statuses and GitHub deployments the way the hosts do
 * (GitHub: the latest status per context; GitLab: refuses pending → pending and running → running like GitLab;
 * Bitbucket: one status per key, overwritten), checks credentials when told which to expect, and answers
 * scripted responses first (429 with Retry-After, 502, ...) to test retries.
 *
 * Mounted paths: `/github` (GitHub's `https://api.github.com`), `/gitlab/api/v4`, `/bitbucket/2.0`. The local
 * runtime can mount `handle()` under a prefix of its own server and use it as its status sink.
 */

export type FakeProvider = 'github' | 'gitlab' | 'bitbucket';

export interface RecordedRequest {
  readonly provider: FakeProvider;
  readonly method: string;
  /** Path below the provider's base, as sent (GitLab project ids stay URL-encoded). */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface ScriptedResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export interface StoredStatus {
  readonly context: string;
  readonly state: string;
  readonly description: string | null;
  readonly targetUrl: string | null;
  /** GitLab's ref, Bitbucket's key. */
  readonly ref?: string;
  readonly key?: string;
  readonly refname?: string;
}

/** A GitHub check run as the fake keeps it: the latest fields, and every annotation posted to it. */
export interface StoredCheckRun {
  readonly id: number;
  readonly repo: string;
  readonly head_sha: string;
  name: string;
  external_id: string;
  status: string;
  conclusion: string | null;
  details_url: string | null;
  output: Record<string, unknown>;
  readonly annotations: Record<string, unknown>[];
  /** How many requests created or changed it. */
  writes: number;
}

/** A GitHub App installed on the fake: its id, public key, and the installation token it gives. */
export interface FakeGitHubApp {
  readonly appId: string;
  readonly publicKey: string;
  readonly installationId: number;
  readonly token: string;
}

export interface StoredDeployment {
  readonly id: number;
  readonly sha: string;
  readonly environment: string;
  readonly body: Record<string, unknown>;
  readonly statuses: Record<string, unknown>[];
}

export interface FakeGitHostOptions {
  /** The credential header each provider must carry, e.g. `{ github: 'Bearer ghp_x' }`; unset: not checked. */
  readonly expectAuth?: Partial<Record<FakeProvider, { readonly header: string; readonly value: string }>>;
}

const BASES: ReadonlyArray<readonly [FakeProvider, string]> = [
  ['github', '/github'],
  ['gitlab', '/gitlab/api/v4'],
  ['bitbucket', '/bitbucket/2.0'],
];

/** Answers a request; true, so that a route can `return send(...)`. */
function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
  return true;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export class FakeGitHost {
  public readonly requests: RecordedRequest[] = [];
  readonly #script: Array<{
    provider?: FakeProvider;
    method?: string;
    pathIncludes?: string;
    response: ScriptedResponse;
  }> = [];
  readonly #statuses = new Map<string, StoredStatus[]>();
  readonly #deployments: Array<StoredDeployment & { provider: 'github'; repo: string }> = [];
  #nextId = 1000;
  #server: Server | null = null;
  #url = '';
  readonly #options: FakeGitHostOptions;
  /** GitLab projects' names that are both a branch and a tag: a status with that short ref is refused. */
  readonly #ambiguousRefs = new Set<string>();
  /** Commits each repository has, full SHAs, for the commit APIs (`<provider>|<repository>`). */
  readonly #commits = new Map<string, string[]>();
  readonly #checkRuns: StoredCheckRun[] = [];
  /** Bitbucket Code Insights reports, by `<repo>|<sha>|<reportId>`, with their annotations. */
  readonly #reports = new Map<string, { report: Record<string, unknown>; annotations: Record<string, unknown>[] }>();
  #app: FakeGitHubApp | null = null;
  /** Installation tokens the fake gave, and how many. */
  public tokensIssued = 0;

  public constructor(options: FakeGitHostOptions = {}) {
    this.#options = options;
  }

  /** Starts listening on 127.0.0.1 on a free port. */
  public async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      void this.handle(req, res, req.url ?? '/');
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  public async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  public get url(): string {
    return this.#url;
  }

  /** The API base URL of a provider on this server. */
  public baseUrl(provider: FakeProvider): string {
    return `${this.#url}${BASES.find(([p]) => p === provider)![1]}`;
  }

  /** Answers the next matching request with `response` instead of the API (first in, first out). */
  public enqueue(
    response: ScriptedResponse,
    match: { provider?: FakeProvider; method?: string; pathIncludes?: string } = {},
  ): void {
    this.#script.push({ ...match, response });
  }

  /** Statuses of a commit: every one posted, oldest first (GitHub keeps them all; the latest per context counts). */
  public statuses(provider: FakeProvider, repository: string, sha: string): StoredStatus[] {
    return [...(this.#statuses.get(`${provider}|${repository}|${sha}`) ?? [])];
  }

  /** The latest status per context of a commit. */
  public latest(provider: FakeProvider, repository: string, sha: string): Map<string, StoredStatus> {
    const latest = new Map<string, StoredStatus>();
    for (const status of this.statuses(provider, repository, sha)) latest.set(status.context, status);
    return latest;
  }

  public deployments(repository: string): StoredDeployment[] {
    return this.#deployments.filter((d) => d.repo === repository);
  }

  /** Makes `name` both a branch and a tag of a GitLab project, as GitLab then refuses it as a short ref. */
  public ambiguousGitLabRef(project: string, name: string): void {
    this.#ambiguousRefs.add(`${project}|${name}`);
  }

  /** Gives a repository a commit, for the commit APIs (Bitbucket's takes an abbreviated hash). */
  public addCommit(provider: FakeProvider, repository: string, sha: string): void {
    const key = `${provider}|${repository}`;
    this.#commits.set(key, [...(this.#commits.get(key) ?? []), sha]);
  }

  /** The one commit of a repository that `prefix` names, or null (none, or more than one). */
  #commit(provider: FakeProvider, repository: string, prefix: string): string | null {
    const found = (this.#commits.get(`${provider}|${repository}`) ?? []).filter((sha) => sha.startsWith(prefix));
    return found.length === 1 ? found[0]! : null;
  }

  /**
   * Installs a GitHub App: `GET /repos/{o}/{r}/installation` and `POST /app/installations/{id}/access_tokens` take
   * only its JWT (RS256, checked with `publicKey`, `iss` its id, `exp` at most 10 minutes ahead), and every other
   * GitHub request must carry the installation token.
   */
  public installGitHubApp(app: FakeGitHubApp): void {
    this.#app = app;
  }

  /** A Bitbucket Code Insights report of a commit, with its annotations, or undefined. */
  public report(
    repository: string,
    sha: string,
    reportId: string,
  ): { report: Record<string, unknown>; annotations: Record<string, unknown>[] } | undefined {
    return this.#reports.get(`${repository}|${sha}|${reportId}`);
  }

  /** The check runs of a repository's commit, oldest first. */
  public checkRuns(repository: string, sha: string): StoredCheckRun[] {
    return this.#checkRuns.filter((r) => r.repo === repository && r.head_sha === sha);
  }

  /** Forgets requests, statuses, deployments, commits, check runs, the App, ambiguous refs and scripted answers. */
  public reset(): void {
    this.#ambiguousRefs.clear();
    this.#checkRuns.length = 0;
    this.#reports.clear();
    this.#app = null;
    this.tokensIssued = 0;
    this.#commits.clear();
    this.requests.length = 0;
    this.#script.length = 0;
    this.#statuses.clear();
    this.#deployments.length = 0;
  }

  /** Handles one request whose path (from the mount point) is `path`; usable from another server. */
  public async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<true> {
    const url = new URL(path, 'http://fake');
    const raw = path.split('?')[0] ?? '/';
    const base = BASES.find(([, prefix]) => raw === prefix || raw.startsWith(`${prefix}/`));
    if (!base) return send(res, 404, { message: 'Not Found' });
    const [provider, prefix] = base;
    const body = await readJson(req);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
    const recorded: RecordedRequest = {
      provider,
      method: req.method ?? 'GET',
      path: raw.slice(prefix.length),
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
    };
    this.requests.push(recorded);

    const scripted = this.#script.findIndex(
      (s) =>
        (!s.provider || s.provider === provider) &&
        (!s.method || s.method === recorded.method) &&
        (!s.pathIncludes || recorded.path.includes(s.pathIncludes)),
    );
    if (scripted >= 0) {
      const [{ response }] = this.#script.splice(scripted, 1) as [{ response: ScriptedResponse }];
      return send(res, response.status, response.body ?? { message: `scripted ${response.status}` }, {
        ...response.headers,
      });
    }
    const expected = this.#options.expectAuth?.[provider];
    if (expected && headers[expected.header.toLowerCase()] !== expected.value) {
      return send(res, 401, { message: 'Bad credentials' });
    }
    switch (provider) {
      case 'github':
        return this.#github(recorded, res);
      case 'gitlab':
        return this.#gitlab(recorded, res);
      case 'bitbucket':
        return this.#bitbucket(recorded, res);
    }
  }

  #push(key: string, status: StoredStatus): void {
    const list = this.#statuses.get(key) ?? [];
    list.push(status);
    this.#statuses.set(key, list);
  }

  /** Whether a JWT is the installed App's: signature, issuer, expiry within ten minutes. */
  #appJwt(authorization: string | undefined): boolean {
    const app = this.#app;
    const jwt = authorization?.replace(/^Bearer /, '') ?? '';
    const [header, payload, signature] = jwt.split('.');
    if (!app || !header || !payload || !signature) return false;
    const valid = createVerify('RSA-SHA256')
      .update(`${header}.${payload}`)
      .verify(app.publicKey, Buffer.from(signature, 'base64url'));
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, number | string>;
    const now = Math.floor(Date.now() / 1000);
    return valid && String(claims.iss) === app.appId && Number(claims.exp) > now && Number(claims.exp) <= now + 600;
  }

  /** GitHub as it answers a GitHub App, or null when no App is installed (the token-based routes then answer). */
  #githubApp(r: RecordedRequest, res: ServerResponse): true | null {
    const app = this.#app;
    if (!app) return null;
    if (/^\/repos\/[^/]+\/[^/]+\/installation$/.test(r.path) && r.method === 'GET') {
      if (!this.#appJwt(r.headers.authorization))
        return send(res, 401, { message: 'A JSON web token could not be decoded' });
      return send(res, 200, { id: app.installationId, app_id: Number(app.appId) });
    }
    if (r.path === `/app/installations/${app.installationId}/access_tokens` && r.method === 'POST') {
      if (!this.#appJwt(r.headers.authorization))
        return send(res, 401, { message: 'A JSON web token could not be decoded' });
      this.tokensIssued++;
      return send(res, 201, { token: app.token, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    }
    if (r.headers.authorization !== `Bearer ${app.token}`) return send(res, 401, { message: 'Bad credentials' });
    const b = (r.body ?? {}) as Record<string, unknown>;
    const output = (b.output ?? null) as { annotations?: unknown[] } | null;
    if (output?.annotations && output.annotations.length > 50) {
      return send(res, 422, { message: 'Only 50 annotations are allowed per request' });
    }
    let m = /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/.exec(r.path);
    if (m && r.method === 'POST') {
      const run: StoredCheckRun = {
        id: this.#nextId++,
        repo: `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`,
        head_sha: String(b.head_sha),
        name: String(b.name),
        external_id: String(b.external_id ?? ''),
        status: String(b.conclusion ? 'completed' : (b.status ?? 'queued')),
        conclusion: typeof b.conclusion === 'string' ? b.conclusion : null,
        details_url: typeof b.details_url === 'string' ? b.details_url : null,
        output: { ...(output ?? {}) },
        annotations: [...((output?.annotations ?? []) as Record<string, unknown>[])],
        writes: 1,
      };
      this.#checkRuns.push(run);
      return send(res, 201, { id: run.id, name: run.name, status: run.status });
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/check-runs\/(\d+)$/.exec(r.path);
    if (m && r.method === 'PATCH') {
      const run = this.#checkRuns.find((c) => c.id === Number(m![3]));
      if (!run) return send(res, 404, { message: 'Not Found' });
      if (typeof b.name === 'string') run.name = b.name;
      if (typeof b.status === 'string') run.status = b.status;
      if (typeof b.conclusion === 'string') {
        run.conclusion = b.conclusion;
        run.status = 'completed';
      }
      if (typeof b.details_url === 'string') run.details_url = b.details_url;
      if (output) {
        Object.assign(run.output, output);
        run.annotations.push(...((output.annotations ?? []) as Record<string, unknown>[]));
      }
      run.writes++;
      return send(res, 200, { id: run.id, name: run.name, status: run.status });
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([0-9a-f]{40})\/check-runs$/.exec(r.path);
    if (m && r.method === 'GET') {
      const repo = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      const latest = new Map<string, StoredCheckRun>();
      for (const run of this.checkRuns(repo, m[3]!)) latest.set(run.name, run);
      const runs = [...latest.values()].map((run) => ({
        id: run.id,
        name: run.name,
        external_id: run.external_id,
        status: run.status,
        conclusion: run.conclusion,
      }));
      return send(res, 200, { total_count: runs.length, check_runs: runs });
    }
    return null;
  }

  #github(r: RecordedRequest, res: ServerResponse): true {
    const answered = this.#githubApp(r, res);
    if (answered) return answered;
    const b = (r.body ?? {}) as Record<string, unknown>;
    let m = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(r.path);
    if (m && r.method === 'POST') {
      const repo = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      if (!['pending', 'success', 'failure', 'error'].includes(String(b.state))) {
        return send(res, 422, { message: 'Validation Failed', errors: [{ field: 'state', code: 'invalid' }] });
      }
      if (typeof b.description === 'string' && Array.from(b.description).length > 140) {
        return send(res, 422, { message: 'Validation Failed', errors: [{ field: 'description', code: 'too_long' }] });
      }
      const status: StoredStatus = {
        context: String(b.context ?? 'default'),
        state: String(b.state),
        description: typeof b.description === 'string' ? b.description : null,
        targetUrl: typeof b.target_url === 'string' ? b.target_url : null,
      };
      this.#push(`github|${repo}|${m[3]}`, status);
      return send(res, 201, { id: this.#nextId++, ...b });
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([0-9a-f]{40})\/status$/.exec(r.path);
    if (m && r.method === 'GET') {
      const repo = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      const latest = [...this.latest('github', repo, m[3]!).values()].map((s) => ({
        context: s.context,
        state: s.state,
        description: s.description,
        target_url: s.targetUrl,
      }));
      return send(res, 200, { sha: m[3], statuses: latest.reverse(), total_count: latest.length });
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/deployments$/.exec(r.path);
    if (m) {
      const repo = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      if (r.method === 'POST') {
        const deployment = {
          provider: 'github' as const,
          repo,
          id: this.#nextId++,
          sha: String(b.ref),
          environment: String(b.environment ?? 'production'),
          body: b,
          statuses: [] as Record<string, unknown>[],
        };
        this.#deployments.push(deployment);
        return send(res, 201, {
          id: deployment.id,
          sha: deployment.sha,
          environment: deployment.environment,
          payload: b.payload ?? {},
        });
      }
      const list = this.#deployments
        .filter((d) => d.repo === repo)
        .filter((d) => !r.query.sha || d.sha === r.query.sha)
        .filter((d) => !r.query.environment || d.environment === r.query.environment)
        .reverse()
        .map((d) => ({ id: d.id, sha: d.sha, environment: d.environment, payload: d.body.payload ?? {} }));
      return send(res, 200, list);
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/.exec(r.path);
    if (m) {
      const deployment = this.#deployments.find((d) => d.id === Number(m![3]));
      if (!deployment) return send(res, 404, { message: 'Not Found' });
      if (r.method === 'POST') {
        deployment.statuses.push(b);
        return send(res, 201, { id: this.#nextId++, ...b });
      }
      return send(res, 200, [...deployment.statuses].reverse());
    }
    return send(res, 404, { message: 'Not Found' });
  }

  #gitlab(r: RecordedRequest, res: ServerResponse): true {
    const b = (r.body ?? {}) as Record<string, unknown>;
    let m = /^\/projects\/([^/]+)\/statuses\/([0-9a-f]{40})$/.exec(r.path);
    if (m && r.method === 'POST') {
      const repo = decodeURIComponent(m[1]!);
      const key = `gitlab|${repo}|${m[2]}`;
      const state = String(b.state);
      if (!['pending', 'running', 'success', 'failed', 'canceled', 'skipped'].includes(state)) {
        return send(res, 400, { message: 'state does not have a valid value' });
      }
      // GitLab's validations: ref, target_url and description "must be 255 characters or fewer".
      const tooLong = ['ref', 'target_url', 'description'].filter(
        (field) => typeof b[field] === 'string' && Array.from(b[field] as string).length > 255,
      );
      if (tooLong.length) {
        return send(res, 400, {
          message: Object.fromEntries(tooLong.map((field) => [field, ['is too long (maximum is 255 characters)']])),
        });
      }
      if (typeof b.ref === 'string' && this.#ambiguousRefs.has(`${repo}|${b.ref}`)) {
        // GitLab's CreateCommitStatusService on Repository::AmbiguousRefError.
        return send(res, 400, { message: 'Ref is ambiguous - specify refs/heads/<name> or refs/tags/<name>' });
      }
      const name = String(b.name ?? b.context ?? 'default');
      const current = this.latest('gitlab', repo, m[2]!).get(name);
      if (current && current.state === state && (state === 'pending' || state === 'running')) {
        const verb = state === 'pending' ? 'enqueue' : 'run';
        return send(res, 400, {
          message: `Cannot transition status via :${verb} from :${state} (Reason(s): Status cannot transition via "${verb}")`,
        });
      }
      this.#push(key, {
        context: name,
        state,
        description: typeof b.description === 'string' ? b.description : null,
        targetUrl: typeof b.target_url === 'string' ? b.target_url : null,
        ref: typeof b.ref === 'string' ? b.ref : undefined,
      });
      return send(res, 201, { id: this.#nextId++, status: state, name, sha: m[2] });
    }
    m = /^\/projects\/([^/]+)\/repository\/commits\/([0-9a-f]{40})\/statuses$/.exec(r.path);
    if (m && r.method === 'GET') {
      const repo = decodeURIComponent(m[1]!);
      const list = [...this.latest('gitlab', repo, m[2]!).values()].map((s) => ({
        name: s.context,
        status: s.state,
        description: s.description,
        target_url: s.targetUrl,
        ref: s.ref,
      }));
      return send(res, 200, list);
    }
    return send(res, 404, { message: '404 Not Found' });
  }

  #bitbucket(r: RecordedRequest, res: ServerResponse): true {
    const b = (r.body ?? {}) as Record<string, unknown>;
    const report = /^\/repositories\/([^/]+)\/([^/]+)\/commit\/([0-9a-f]{40})\/reports\/([^/]+)(\/annotations)?$/.exec(
      r.path,
    );
    if (report) {
      const key = `${decodeURIComponent(report[1]!)}/${decodeURIComponent(report[2]!)}|${report[3]}|${decodeURIComponent(report[4]!)}`;
      if (!report[5] && r.method === 'PUT') {
        this.#reports.set(key, { report: b, annotations: [] });
        return send(res, 200, { type: 'report', uuid: `{${this.#nextId++}}`, ...b });
      }
      if (report[5] && r.method === 'POST') {
        const stored = this.#reports.get(key);
        if (!stored) return send(res, 404, { type: 'error', error: { message: 'Report not found' } });
        const list = Array.isArray(r.body) ? (r.body as Record<string, unknown>[]) : [];
        if (list.length > 100) return send(res, 400, { type: 'error', error: { message: 'At most 100 annotations' } });
        stored.annotations.push(...list);
        return send(res, 200, list);
      }
    }
    // GET /repositories/{workspace}/{repo_slug}/commit/{commit}: a full or abbreviated hash.
    const commit = /^\/repositories\/([^/]+)\/([^/]+)\/commit\/([0-9a-f]{4,40})$/.exec(r.path);
    if (commit && r.method === 'GET') {
      const repo = `${decodeURIComponent(commit[1]!)}/${decodeURIComponent(commit[2]!)}`;
      const sha = this.#commit('bitbucket', repo, commit[3]!);
      if (!sha) return send(res, 404, { type: 'error', error: { message: `Commit not found` } });
      return send(res, 200, { type: 'commit', hash: sha, repository: { full_name: repo } });
    }
    let m = /^\/repositories\/([^/]+)\/([^/]+)\/commit\/([0-9a-f]{40})\/statuses\/build$/.exec(r.path);
    if (m && r.method === 'POST') {
      const repo = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      if (!['INPROGRESS', 'SUCCESSFUL', 'FAILED', 'STOPPED'].includes(String(b.state)) || !b.key || !b.url) {
        return send(res, 400, { type: 'error', error: { message: 'key, state and url are required' } });
      }
      const key = `bitbucket|${repo}|${m[3]}`;
      const list = (this.#statuses.get(key) ?? []).filter((s) => s.key !== b.key);
      list.push({
        context: String(b.name ?? b.key),
        state: String(b.state),
        description: typeof b.description === 'string' ? b.description : null,
        targetUrl: String(b.url),
        key: String(b.key),
        refname: typeof b.refname === 'string' ? b.refname : undefined,
      });
      this.#statuses.set(key, list);
      return send(res, 201, { type: 'build', ...b });
    }
    m = /^\/repositories\/([^/]+)\/([^/]+)\/commit\/([0-9a-f]{40})\/statuses$/.exec(r.path);
    if (m && r.method === 'GET') {
      const repo = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      const values = this.statuses('bitbucket', repo, m[3]!).map((s) => ({
        key: s.key,
        name: s.context,
        state: s.state,
        description: s.description,
        url: s.targetUrl,
      }));
      return send(res, 200, { values, pagelen: 100, size: values.length, page: 1 });
    }
    return send(res, 404, { type: 'error', error: { message: 'Resource not found' } });
  }
}

/** Starts a fake Git host on 127.0.0.1; close it in `afterAll`. */
export async function startFakeGitHost(options: FakeGitHostOptions = {}): Promise<FakeGitHost> {
  return new FakeGitHost(options).start();
}
