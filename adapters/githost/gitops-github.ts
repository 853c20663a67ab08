import { GitOpsConflict } from '../../core/gitops/errors';
import type {
  CommitInfo,
  CommitRequest,
  ConfigRepository,
  PullRequestInfo,
  PullRequestRequest,
} from '../../core/gitops/ports';
import type { HostRequest, HostResponse, HostTransport } from '../../core/status/hosts';
import { sendToRepository } from './gitops-send';

/**
 * A configuration repository on GitHub (or GitHub Enterprise: another base URL in the transport), through the REST
 * API with the status functions' transport (timeouts, retries, rate limits, the token; adapters/githost/http.ts):
 *
 * - a commit of several files at once with the Git Database API: `POST /git/trees` (`base_tree` = the parent's tree,
 *   entries with inline `content`, or `sha: null` to delete), `POST /git/commits` with the parent, then
 *   `PATCH /git/refs/heads/{branch}` with `force: false`, which GitHub refuses (422) when the branch is not an
 *   ancestor of the new commit: someone pushed in between (`GitOpsConflict`); a new branch is `POST /git/refs`;
 * - files with `GET /contents/{path}?ref=` (base64), folders with `GET /git/trees/{ref}?recursive=1`;
 * - pull requests with `POST /pulls`, `GET /pulls?head=<owner>:<branch>&state=all`, closed with a comment
 *   (`POST /issues/{n}/comments`, `PATCH /pulls/{n}` `state: closed`);
 * - a branch's tip (a pull-request branch a dead invocation left, ADR 0111): `GET /git/ref/heads/{branch}` (404: no
 *   such branch), then `GET /commits?sha={branch}&per_page=1` (`sha`: "SHA or branch to start listing commits
 *   from") for its message and parents; a branch's history is the same listing, 100 at a time.
 *
 * Errors name the request and status, never the token or a body.
 */
export class GitHubConfigRepository implements ConfigRepository {
  public readonly label: string;
  private readonly base: string;

  public constructor(
    private readonly transport: HostTransport,
    private readonly fullName: string,
  ) {
    this.label = `github:${fullName}`;
    this.base = `/repos/${fullName.split('/').map(encodeURIComponent).join('/')}`;
  }

  private send(request: HostRequest, ok: readonly number[] = [200, 201]): Promise<HostResponse> {
    return sendToRepository(this.transport, { label: this.label, base: this.base }, request, ok);
  }

  public async head(branch: string): Promise<string> {
    const { body } = await this.send({ method: 'GET', path: `/git/ref/heads/${branch}` });
    return String((body as { object: { sha: string } }).object.sha);
  }

  public async readFile(ref: string, path: string): Promise<string | null> {
    const response = await this.send({ method: 'GET', path: `/contents/${path}`, query: { ref } }, [200, 404]);
    if (response.status === 404) return null;
    const body = response.body as { type?: string; content?: string; encoding?: string };
    if (body.type !== 'file' || typeof body.content !== 'string') return null;
    return Buffer.from(body.content, 'base64').toString('utf8');
  }

  public async listFiles(ref: string, folder: string): Promise<string[]> {
    const { body } = await this.send({ method: 'GET', path: `/git/trees/${ref}`, query: { recursive: '1' } });
    const prefix = `${folder.replace(/\/+$/, '')}/`;
    return ((body as { tree: { path: string; type: string }[] }).tree ?? [])
      .filter((e) => e.type === 'blob' && e.path.startsWith(prefix))
      .map((e) => e.path)
      .sort();
  }

  public async commit(request: CommitRequest): Promise<string> {
    const parent = await this.send({ method: 'GET', path: `/git/commits/${request.parent}` });
    const baseTree = (parent.body as { tree: { sha: string } }).tree.sha;
    const tree = await this.send({
      method: 'POST',
      path: '/git/trees',
      body: {
        base_tree: baseTree,
        tree: request.files.map((f) =>
          f.content === null
            ? { path: f.path, mode: '100644', type: 'blob', sha: null }
            : { path: f.path, mode: '100644', type: 'blob', content: f.content },
        ),
      },
    });
    const commit = await this.send({
      method: 'POST',
      path: '/git/commits',
      body: { message: request.message, tree: (tree.body as { sha: string }).sha, parents: [request.parent] },
    });
    const sha = (commit.body as { sha: string }).sha;
    const moved = request.createBranch
      ? await this.send(
          { method: 'POST', path: '/git/refs', body: { ref: `refs/heads/${request.branch}`, sha } },
          [201, 422],
        )
      : await this.send(
          { method: 'PATCH', path: `/git/refs/heads/${request.branch}`, body: { sha, force: false } },
          [200, 422],
        );
    if (moved.status === 422) {
      throw new GitOpsConflict(
        `${this.label}: ${request.branch} ${request.createBranch ? 'already exists' : 'moved while Stepline wrote to it'}`,
      );
    }
    return sha;
  }

  public async findCommit(
    branch: string,
    trailers: Readonly<Record<string, string>>,
  ): Promise<{ sha: string; parent: string } | null> {
    const { body } = await this.send({ method: 'GET', path: '/commits', query: { sha: branch, per_page: '100' } });
    for (const c of body as { sha: string; commit: { message: string }; parents: { sha: string }[] }[]) {
      const lines = new Set(c.commit.message.split('\n').map((l) => l.trim()));
      if (Object.entries(trailers).every(([k, v]) => lines.has(`${k}: ${v}`)))
        return { sha: c.sha, parent: c.parents[0]?.sha ?? '' };
    }
    return null;
  }

  private async commits(ref: string, perPage: number): Promise<CommitInfo[]> {
    const { body } = await this.send({
      method: 'GET',
      path: '/commits',
      query: { sha: ref, per_page: String(perPage) },
    });
    return (body as { sha: string; commit: { message: string }; parents: { sha: string }[] }[]).map((c) => ({
      sha: c.sha,
      parents: c.parents.map((p) => p.sha),
      message: c.commit.message,
    }));
  }

  public async branchTip(branch: string): Promise<CommitInfo | null> {
    const ref = await this.send({ method: 'GET', path: `/git/ref/heads/${branch}` }, [200, 404]);
    if (ref.status === 404) return null;
    return (await this.commits(branch, 1))[0] ?? null;
  }

  public async history(branch: string): Promise<readonly string[]> {
    return (await this.commits(branch, 100)).map((c) => c.sha);
  }

  public async firstParent(sha: string): Promise<string | null> {
    const { body } = await this.send({ method: 'GET', path: `/git/commits/${sha}` });
    return (body as { parents: { sha: string }[] }).parents[0]?.sha ?? null;
  }

  private pull(body: unknown): PullRequestInfo {
    const pr = body as {
      number: number;
      html_url: string;
      state: string;
      merged_at: string | null;
      merge_commit_sha: string | null;
      head: { ref: string };
    };
    const merged = pr.merged_at !== null && pr.merged_at !== undefined;
    return {
      number: pr.number,
      url: pr.html_url,
      state: merged ? 'merged' : pr.state === 'open' ? 'open' : 'closed',
      mergeCommit: merged ? pr.merge_commit_sha : null,
      head: pr.head.ref,
    };
  }

  public async openPullRequest(request: PullRequestRequest): Promise<PullRequestInfo> {
    const { body } = await this.send({ method: 'POST', path: '/pulls', body: request });
    return this.pull(body);
  }

  public async findPullRequest(head: string): Promise<PullRequestInfo | null> {
    const owner = this.fullName.split('/')[0] ?? '';
    const { body } = await this.send({
      method: 'GET',
      path: '/pulls',
      query: { head: `${owner}:${head}`, state: 'all' },
    });
    const first = (body as unknown[])[0];
    return first ? this.pull(first) : null;
  }

  public async closePullRequest(number: number, comment: string): Promise<void> {
    await this.send({ method: 'POST', path: `/issues/${number}/comments`, body: { body: comment } });
    await this.send({ method: 'PATCH', path: `/pulls/${number}`, body: { state: 'closed' } });
  }
}
