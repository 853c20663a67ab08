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
 * A configuration repository on GitLab (gitlab.com or self-managed: the transport's base URL), through the REST API v4
 * with the status functions' transport:
 *
 * - a commit of several files at once: `POST /projects/:id/repository/commits` with `actions` (create, update,
 *   delete); each update carries `last_commit_id`, the last commit that changed the file as Stepline read it, and
 *   GitLab refuses (400) when the file changed since: the conflict. A new branch is the same call with `branch`
 *   and `start_sha`;
 * - files with `GET /repository/files/:path?ref=` (base64 `content`), folders with `GET /repository/tree?recursive=true`;
 * - merge requests with `POST /merge_requests`, `GET /merge_requests?source_branch=&state=all`, closed with a note
 *   (`POST /merge_requests/:iid/notes`, `PUT /merge_requests/:iid` `state_event: close`);
 * - a branch's tip (a merge-request branch a dead invocation left, ADR 0111): `GET /repository/branches/:branch`
 *   (404: no such branch), then `GET /repository/commits?ref_name=:branch&per_page=1` for its message and
 *   `parent_ids` (the branch answer's own `parent_ids` has been null on some GitLab versions, gitlab-org/gitlab#20675);
 *   a branch's history is the same listing, 100 at a time.
 */
export class GitLabConfigRepository implements ConfigRepository {
  public readonly label: string;
  private readonly base: string;

  public constructor(
    private readonly transport: HostTransport,
    fullName: string,
  ) {
    this.label = `gitlab:${fullName}`;
    this.base = `/projects/${encodeURIComponent(fullName)}`;
  }

  private send(request: HostRequest, ok: readonly number[] = [200, 201]): Promise<HostResponse> {
    return sendToRepository(this.transport, { label: this.label, base: this.base }, request, ok);
  }

  public async head(branch: string): Promise<string> {
    const { body } = await this.send({ method: 'GET', path: `/repository/branches/${encodeURIComponent(branch)}` });
    return String((body as { commit: { id: string } }).commit.id);
  }

  private async file(ref: string, path: string): Promise<{ content: string; lastCommit: string } | null> {
    const response = await this.send(
      { method: 'GET', path: `/repository/files/${encodeURIComponent(path)}`, query: { ref } },
      [200, 404],
    );
    if (response.status === 404) return null;
    const body = response.body as { content: string; last_commit_id: string };
    return { content: Buffer.from(body.content, 'base64').toString('utf8'), lastCommit: body.last_commit_id };
  }

  public async readFile(ref: string, path: string): Promise<string | null> {
    return (await this.file(ref, path))?.content ?? null;
  }

  public async listFiles(ref: string, folder: string): Promise<string[]> {
    const { body } = await this.send({
      method: 'GET',
      path: '/repository/tree',
      query: { ref, path: folder.replace(/\/+$/, ''), recursive: 'true', per_page: '100' },
    });
    return (body as { path: string; type: string }[])
      .filter((e) => e.type === 'blob')
      .map((e) => e.path)
      .sort();
  }

  public async commit(request: CommitRequest): Promise<string> {
    const actions: Record<string, unknown>[] = [];
    for (const f of request.files) {
      const current = await this.file(request.parent, f.path);
      if (f.content === null) {
        if (current) actions.push({ action: 'delete', file_path: f.path, last_commit_id: current.lastCommit });
      } else if (current) {
        actions.push({ action: 'update', file_path: f.path, content: f.content, last_commit_id: current.lastCommit });
      } else {
        actions.push({ action: 'create', file_path: f.path, content: f.content });
      }
    }
    const response = await this.send(
      {
        method: 'POST',
        path: '/repository/commits',
        body: {
          branch: request.branch,
          commit_message: request.message,
          actions,
          ...(request.createBranch ? { start_sha: request.parent } : {}),
        },
      },
      [201, 400],
    );
    if (response.status === 400) {
      throw new GitOpsConflict(`${this.label}: ${request.branch} changed while Stepline wrote to it`);
    }
    return (response.body as { id: string }).id;
  }

  public async findCommit(
    branch: string,
    trailers: Readonly<Record<string, string>>,
  ): Promise<{ sha: string; parent: string } | null> {
    const { body } = await this.send({
      method: 'GET',
      path: '/repository/commits',
      query: { ref_name: branch, per_page: '100' },
    });
    for (const c of body as { id: string; message: string; parent_ids: string[] }[]) {
      const lines = new Set(c.message.split('\n').map((l) => l.trim()));
      if (Object.entries(trailers).every(([k, v]) => lines.has(`${k}: ${v}`)))
        return { sha: c.id, parent: c.parent_ids[0] ?? '' };
    }
    return null;
  }

  private async commits(ref: string, perPage: number): Promise<CommitInfo[]> {
    const { body } = await this.send({
      method: 'GET',
      path: '/repository/commits',
      query: { ref_name: ref, per_page: String(perPage) },
    });
    return (body as { id: string; message: string; parent_ids: string[] }[]).map((c) => ({
      sha: c.id,
      parents: c.parent_ids,
      message: c.message,
    }));
  }

  public async branchTip(branch: string): Promise<CommitInfo | null> {
    const response = await this.send(
      { method: 'GET', path: `/repository/branches/${encodeURIComponent(branch)}` },
      [200, 404],
    );
    if (response.status === 404) return null;
    return (await this.commits(branch, 1))[0] ?? null;
  }

  public async history(branch: string): Promise<readonly string[]> {
    return (await this.commits(branch, 100)).map((c) => c.sha);
  }

  public async firstParent(sha: string): Promise<string | null> {
    const { body } = await this.send({ method: 'GET', path: `/repository/commits/${sha}` });
    return (body as { parent_ids: string[] }).parent_ids[0] ?? null;
  }

  private mergeRequest(body: unknown): PullRequestInfo {
    const mr = body as {
      iid: number;
      web_url: string;
      state: string;
      merge_commit_sha: string | null;
      squash_commit_sha?: string | null;
      source_branch: string;
    };
    const merged = mr.state === 'merged';
    return {
      number: mr.iid,
      url: mr.web_url,
      state: merged ? 'merged' : mr.state === 'opened' ? 'open' : 'closed',
      mergeCommit: merged ? (mr.merge_commit_sha ?? mr.squash_commit_sha ?? null) : null,
      head: mr.source_branch,
    };
  }

  public async openPullRequest(request: PullRequestRequest): Promise<PullRequestInfo> {
    const { body } = await this.send({
      method: 'POST',
      path: '/merge_requests',
      body: {
        source_branch: request.head,
        target_branch: request.base,
        title: request.title,
        description: request.body,
        remove_source_branch: true,
      },
    });
    return this.mergeRequest(body);
  }

  public async findPullRequest(head: string): Promise<PullRequestInfo | null> {
    const { body } = await this.send({
      method: 'GET',
      path: '/merge_requests',
      query: { source_branch: head, state: 'all' },
    });
    const first = (body as unknown[])[0];
    return first ? this.mergeRequest(first) : null;
  }

  public async closePullRequest(number: number, comment: string): Promise<void> {
    await this.send({ method: 'POST', path: `/merge_requests/${number}/notes`, body: { body: comment } });
    await this.send({ method: 'PUT', path: `/merge_requests/${number}`, body: { state_event: 'close' } });
  }
}
