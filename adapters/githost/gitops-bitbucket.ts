import { GitOpsConflict, GitOpsRepositoryError } from '../../core/gitops/errors';
import type {
  CommitInfo,
  CommitRequest,
  ConfigRepository,
  PullRequestInfo,
  PullRequestRequest,
} from '../../core/gitops/ports';
import { sendToRepository } from './gitops-send';
import type { HttpHostRequest, HttpHostResponse, RawHostTransport } from './http';

/**
 * A configuration repository on Bitbucket Cloud (`https://api.bitbucket.org/2.0`, the transport's base URL), through
 * the REST API 2.0 with the status functions' transport (timeouts, retries, rate limits, the token), asking it for
 * raw bodies and form-encoded requests (`HttpHostRequest`, ADR 0110):
 *
 * - the branch head with `GET /refs/branches/{name}` (`target.hash`);
 * - a file at a commit with `GET /src/{commit}/{path}`, which answers the file's bytes as they are (not JSON), read
 *   whole; a folder there answers a JSON listing instead (`values` of `commit_file`/`commit_directory`), walked for
 *   `listFiles` page by page;
 * - a commit of several files at once with `POST /src`, form-encoded (`application/x-www-form-urlencoded`, which the
 *   endpoint accepts besides multipart): one field per file, named by its path with a leading slash so that a file
 *   cannot be taken for a meta-data field, `files=/path` for a deletion (a `files` entry with no field of its name),
 *   `message`, `branch`, `parents`. Bitbucket's documentation of that endpoint ("Create a commit by uploading a
 *   file", the `branch` parameter): "When a branch name is provided that already exists in the repo, then the commit
 *   will be created on top of that branch. In this case, *if* a parent SHA1 was also provided, then it is asserted
 *   that the parent is the branch's tip/HEAD at the time the request is made. When this is not the case, a 409 is
 *   returned"; and for a new branch with a parent, "the new commit and branch are created directly on top of the
 *   parent commit". So `parents` is the compare-and-swap, 409 the conflict (`GitOpsConflict`). The endpoint answers
 *   201 with no body; the new commit is the last segment of its `Location`, or else found on the branch by its
 *   parent and message;
 * - commits with `GET /commits?include={branch}` and `GET /commit/{sha}` (`parents[].hash`, `message`); a branch's
 *   tip (a pull-request branch a dead invocation left, ADR 0111) is `GET /refs/branches/{name}` (404: none) then
 *   `GET /commit/{hash}`;
 * - `src` paths take a commit, never a branch name: `{commit}` is "The commit's SHA1", a branch name may hold
 *   slashes (which would run into the file's path), and one that looks like a commit id (`cafe1234`) would be taken
 *   for that commit. A ref is resolved as git resolves it (gitrevisions): 40 hex digits are that commit; anything
 *   else is a branch first (`GET /refs/branches/{name}`), then, if hex, an abbreviated commit read whole;
 * - pull requests with `POST /pullrequests`, `GET /pullrequests?q=source.branch.name="…"` with `state` repeated
 *   (OPEN, MERGED, DECLINED, SUPERSEDED: without it, Bitbucket lists open ones only), a merged one's
 *   `merge_commit.hash` (which may be abbreviated: it is read back whole with `GET /commit/{hash}`), closed with a
 *   comment (`POST /pullrequests/{id}/comments` `{content: {raw}}`) and `POST /pullrequests/{id}/decline`.
 *
 * Errors name the request and status, never the token or a body.
 */

const PR_STATES = ['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED'] as const;
const FULL_SHA = /^[0-9a-f]{40}$/;
const COMMIT_ID = /^[0-9a-f]{7,40}$/;

interface BitbucketPull {
  readonly id: number;
  readonly state: string;
  readonly links?: { readonly html?: { readonly href?: string } };
  readonly source: { readonly branch: { readonly name: string } };
  readonly merge_commit?: { readonly hash?: string } | null;
}

interface Listing {
  readonly values?: readonly { readonly type?: string; readonly path?: string }[];
  readonly next?: string;
}

/** A path's segments, each escaped, joined with slashes (branch names and file paths keep their folders). */
const segments = (path: string) =>
  path
    .split('/')
    .filter((s) => s !== '')
    .map(encodeURIComponent)
    .join('/');

/** A JSON folder listing of the `src` endpoint, as opposed to a file's own bytes. */
function isListing(response: HttpHostResponse): boolean {
  if (!/json/i.test(response.contentType ?? '')) return false;
  const values = (response.body as Listing | null)?.values;
  return Array.isArray(values) && values.every((v) => v.type === 'commit_file' || v.type === 'commit_directory');
}

export class BitbucketConfigRepository implements ConfigRepository {
  public readonly label: string;
  private readonly base: string;

  public constructor(
    private readonly transport: RawHostTransport,
    fullName: string,
  ) {
    this.label = `bitbucket:${fullName}`;
    this.base = `/repositories/${segments(fullName)}`;
  }

  private send(request: HttpHostRequest, ok: readonly number[] = [200, 201]): Promise<HttpHostResponse> {
    return sendToRepository(this.transport, { label: this.label, base: this.base }, request, ok);
  }

  public async head(branch: string): Promise<string> {
    const { body } = await this.send({ method: 'GET', path: `/refs/branches/${segments(branch)}` });
    return String((body as { target: { hash: string } }).target.hash);
  }

  private async branchExists(branch: string): Promise<boolean> {
    const response = await this.send({ method: 'GET', path: `/refs/branches/${segments(branch)}` }, [200, 404]);
    return response.status === 200;
  }

  /**
   * The commit for `src` paths, never a branch name (see above): a full SHA-1 as it is; a branch by its tip (a branch
   * wins over an abbreviated commit id, as in git); else an abbreviated commit id read whole.
   */
  private async commitFor(ref: string): Promise<string> {
    if (FULL_SHA.test(ref)) return ref;
    const branch = await this.send({ method: 'GET', path: `/refs/branches/${segments(ref)}` }, [200, 404]);
    if (branch.status === 200) return String((branch.body as { target: { hash: string } }).target.hash);
    if (!COMMIT_ID.test(ref)) throw new GitOpsRepositoryError(`${this.label}: no branch ${ref}`);
    return (await this.commitOf(ref)).hash;
  }

  public async readFile(ref: string, path: string): Promise<string | null> {
    const commit = await this.commitFor(ref);
    const response = await this.send(
      { method: 'GET', path: `/src/${commit}/${segments(path)}`, raw: true },
      [200, 404],
    );
    if (response.status === 404) return null;
    if (isListing(response)) {
      // A file whose own content looks like a folder listing: ask Bitbucket what the path is.
      const meta = await this.send({
        method: 'GET',
        path: `/src/${commit}/${segments(path)}`,
        query: { format: 'meta' },
      });
      if ((meta.body as { type?: string }).type !== 'commit_file') return null;
    }
    return response.text ?? '';
  }

  public async listFiles(ref: string, folder: string): Promise<string[]> {
    const commit = await this.commitFor(ref);
    const files: string[] = [];
    const folders = [folder.replace(/\/+$/, '')];
    for (let next = folders.pop(); next !== undefined; next = folders.pop()) {
      let query: Record<string, string> = { pagelen: '100' };
      for (;;) {
        const response = await this.send(
          { method: 'GET', path: `/src/${commit}/${segments(next)}/`, query },
          [200, 404],
        );
        if (response.status === 404) break;
        const page = response.body as Listing;
        for (const entry of page.values ?? []) {
          if (entry.type === 'commit_file' && entry.path) files.push(entry.path);
          if (entry.type === 'commit_directory' && entry.path) folders.push(entry.path);
        }
        if (!page.next) break;
        query = Object.fromEntries(new URL(page.next).searchParams);
      }
    }
    return files.sort();
  }

  public async commit(request: CommitRequest): Promise<string> {
    if (request.createBranch && (await this.branchExists(request.branch))) {
      throw new GitOpsConflict(`${this.label}: ${request.branch} already exists`);
    }
    const form: [string, string][] = [];
    for (const f of request.files) {
      if (f.content === null) form.push(['files', `/${f.path}`]);
      else form.push([`/${f.path}`, f.content]);
    }
    form.push(['message', request.message], ['branch', request.branch], ['parents', request.parent]);
    const response = await this.send({ method: 'POST', path: '/src', form, raw: true }, [201, 409]);
    if (response.status === 409) {
      throw new GitOpsConflict(`${this.label}: ${request.branch} moved while Stepline wrote to it`);
    }
    const fromLocation = (response.location ?? '')
      .split(/[/?#]/)
      .filter((s) => FULL_SHA.test(s))
      .pop();
    if (fromLocation) return fromLocation;
    const made = await this.findOnBranch(
      request.branch,
      (c) => c.parents[0]?.hash === request.parent && c.message.trim() === request.message.trim(),
    );
    if (!made) throw new GitOpsRepositoryError(`${this.label}: the commit to ${request.branch} cannot be found`);
    return made.sha;
  }

  private async findOnBranch(
    branch: string,
    match: (commit: { message: string; parents: { hash: string }[] }) => boolean,
  ): Promise<{ sha: string; parent: string } | null> {
    const { body } = await this.send({
      method: 'GET',
      path: '/commits',
      query: { include: branch, pagelen: '100' },
    });
    const commits = (body as { values?: { hash: string; message: string; parents: { hash: string }[] }[] }).values;
    for (const c of commits ?? []) {
      if (match(c)) return { sha: c.hash, parent: c.parents[0]?.hash ?? '' };
    }
    return null;
  }

  public async findCommit(
    branch: string,
    trailers: Readonly<Record<string, string>>,
  ): Promise<{ sha: string; parent: string } | null> {
    return this.findOnBranch(branch, (c) => {
      const lines = new Set(c.message.split('\n').map((l) => l.trim()));
      return Object.entries(trailers).every(([k, v]) => lines.has(`${k}: ${v}`));
    });
  }

  private async commitOf(sha: string): Promise<{ hash: string; message: string; parents: { hash: string }[] }> {
    const { body } = await this.send({ method: 'GET', path: `/commit/${encodeURIComponent(sha)}` });
    return body as { hash: string; message: string; parents: { hash: string }[] };
  }

  public async firstParent(sha: string): Promise<string | null> {
    return (await this.commitOf(sha)).parents[0]?.hash ?? null;
  }

  public async branchTip(branch: string): Promise<CommitInfo | null> {
    const response = await this.send({ method: 'GET', path: `/refs/branches/${segments(branch)}` }, [200, 404]);
    if (response.status === 404) return null;
    const commit = await this.commitOf(String((response.body as { target: { hash: string } }).target.hash));
    return { sha: commit.hash, parents: commit.parents.map((p) => p.hash), message: commit.message };
  }

  public async history(branch: string): Promise<readonly string[]> {
    const { body } = await this.send({ method: 'GET', path: '/commits', query: { include: branch, pagelen: '100' } });
    return ((body as { values?: { hash: string }[] }).values ?? []).map((c) => c.hash);
  }

  private async pull(body: unknown): Promise<PullRequestInfo> {
    const pr = body as BitbucketPull;
    const merged = pr.state === 'MERGED';
    const hash = merged ? (pr.merge_commit?.hash ?? null) : null;
    return {
      number: pr.id,
      url: pr.links?.html?.href ?? '',
      state: merged ? 'merged' : pr.state === 'OPEN' ? 'open' : 'closed',
      mergeCommit: hash === null || FULL_SHA.test(hash) ? hash : (await this.commitOf(hash)).hash,
      head: pr.source.branch.name,
    };
  }

  public async openPullRequest(request: PullRequestRequest): Promise<PullRequestInfo> {
    const { body } = await this.send({
      method: 'POST',
      path: '/pullrequests',
      body: {
        title: request.title,
        description: request.body,
        source: { branch: { name: request.head } },
        destination: { branch: { name: request.base } },
        close_source_branch: true,
      },
    });
    return this.pull(body);
  }

  public async findPullRequest(head: string): Promise<PullRequestInfo | null> {
    const { body } = await this.send({
      method: 'GET',
      path: '/pullrequests',
      query: { q: `source.branch.name="${head.replace(/["\\]/g, '\\$&')}"` },
      queryPairs: PR_STATES.map((s) => ['state', s] as const),
    });
    const first = (body as { values?: unknown[] }).values?.[0];
    return first ? this.pull(first) : null;
  }

  public async closePullRequest(number: number, comment: string): Promise<void> {
    await this.send({ method: 'POST', path: `/pullrequests/${number}/comments`, body: { content: { raw: comment } } });
    await this.send({ method: 'POST', path: `/pullrequests/${number}/decline` });
  }
}
