import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalGitRepository } from '../../../adapters/local/gitops-git';

/**
 * A stand-in for the part of Bitbucket Cloud's REST API 2.0 that a GitOps delivery uses, on 127.0.0.1, over a real
 * bare git repository, as Bitbucket documents it:
 * - `GET /refs/branches/{name}` (`target.hash`);
 * - `GET /src/{commit}/{path}`: a file's bytes as they are (`text/plain`, not JSON); a folder: a JSON listing of
 *   `commit_file`/`commit_directory` entries, `pageSize` at a time with a `next` link; `?format=meta`: the entry.
 *   `{commit}` is "The commit's SHA1" (full or abbreviated), never a branch: hex digits that happen to be a branch
 *   name are still taken for the commit they abbreviate (`git rev-parse --disambiguate`, which looks at objects only);
 * - `POST /src`, form-encoded: `/path=content` fields, `files=/path` without a field deletes, `message`, `branch`,
 *   `parents`; an existing branch whose tip is not `parents` answers 409; a new branch starts at `parents`; 201 with
 *   no body and the commit in `Location` (unless `location` is turned off);
 * - `GET /commits?include={branch}`, `GET /commit/{sha}` (an abbreviated hash is read whole);
 * - pull requests: `POST /pullrequests`, `GET /pullrequests?q=source.branch.name="…"&state=…` (without `state`,
 *   open ones only, as Bitbucket), `POST /pullrequests/{id}/comments`, `POST /pullrequests/{id}/decline`.
 *   `merge(id)` merges as a reviewer would; the pull request then names its merge commit abbreviated (12 digits).
 * Every request is recorded (method, path, content type, authorization); the token is checked.
 */

export interface BitbucketPullStandIn {
  id: number;
  title: string;
  description: string;
  source: string;
  destination: string;
  state: 'OPEN' | 'MERGED' | 'DECLINED';
  mergeCommit: string | null;
  comments: string[];
}

function git(gitDir: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('git', ['--git-dir', gitDir, ...args], (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
}

export class BitbucketStandIn {
  public readonly requests: { method: string; path: string; contentType?: string; authorization?: string }[] = [];
  public readonly pulls: BitbucketPullStandIn[] = [];
  /** Entries per page of a folder listing. */
  public pageSize = 100;
  /** Whether `POST /src` answers the new commit in `Location`. */
  public location = true;
  /** Runs once when the next `POST /src` arrives, before it is handled: someone else's push in between. */
  public beforeNextCommit: (() => Promise<void>) | null = null;
  /** Answers the next `POST /src` with this status and no commit (503: the transport tries again). */
  public failNextCommit: number | null = null;
  private server: Server | null = null;
  private readonly repo: LocalGitRepository;
  private readonly prefix: string;

  public constructor(
    private readonly gitDir: string,
    fullName: string,
    private readonly token: string,
  ) {
    this.repo = new LocalGitRepository(gitDir, fullName);
    this.prefix = `/2.0/repositories/${fullName}`;
  }

  private get origin(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo | undefined)?.port}`;
  }

  /** The base URL of the API, as a transport takes it. */
  public get url(): string {
    return `${this.origin}/2.0`;
  }

  public async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((error: unknown) => this.json(res, 500, { error: { message: String(error) } }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Merges pull request `id` into its destination with a merge commit, as a reviewer's "Merge" does. */
  public async merge(id: number): Promise<string> {
    const pr = this.pulls.find((p) => p.id === id);
    if (!pr) throw new Error(`no pull request ${id}`);
    const base = await this.repo.head(pr.destination);
    const head = await this.repo.head(pr.source);
    const tree = (await git(this.gitDir, ['rev-parse', `${head}^{tree}`])).trim();
    const merge = (
      await git(this.gitDir, ['commit-tree', tree, '-p', base, '-p', head, '-m', `Merged in ${pr.source} (#${id})`])
    ).trim();
    await git(this.gitDir, ['update-ref', `refs/heads/${pr.destination}`, merge, base]);
    Object.assign(pr, { state: 'MERGED', mergeCommit: merge });
    return merge;
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private pull(pr: BitbucketPullStandIn) {
    return {
      type: 'pullrequest',
      id: pr.id,
      title: pr.title,
      state: pr.state,
      links: { html: { href: `https://bitbucket.example.test/acme/deploy/pull-requests/${pr.id}` } },
      source: { branch: { name: pr.source } },
      destination: { branch: { name: pr.destination } },
      merge_commit: pr.mergeCommit ? { hash: pr.mergeCommit.slice(0, 12) } : null,
    };
  }

  private async commitJson(rev: string) {
    const out = await git(this.gitDir, ['show', '-s', '--format=%H%x00%P%x00%B', rev]);
    const [hash, parents, message] = out.split('\0');
    const list = (parents ?? '').split(' ').filter(Boolean);
    return { type: 'commit', hash, message: message ?? '', parents: list.map((p) => ({ hash: p })) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? '';
    const contentType = req.headers['content-type'];
    this.requests.push({ method, path: url.pathname, contentType, authorization: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return this.json(res, 401, { type: 'error', error: { message: 'Access token expired or invalid' } });
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!url.pathname.startsWith(this.prefix)) return this.json(res, 404, { error: { message: 'No such repository' } });
    const path = url.pathname.slice(this.prefix.length);
    const q = url.searchParams;
    let m = method === 'GET' ? path.match(/^\/refs\/branches\/(.+)$/) : null;
    if (m) {
      const hash = await this.repo.head(decodeURIComponent(m[1] ?? '')).catch(() => null);
      if (!hash) return this.json(res, 404, { error: { message: 'Branch not found' } });
      return this.json(res, 200, { type: 'branch', name: decodeURIComponent(m[1] ?? ''), target: { hash } });
    }
    m = method === 'GET' ? path.match(/^\/src\/([0-9a-f]+)\/(.*)$/) : null;
    if (m) {
      return this.src(m[1] ?? '', decodeURIComponent(m[2] ?? ''), q, res);
    }
    if (method === 'POST' && path === '/src') return this.commit(new URLSearchParams(text), res);
    if (method === 'GET' && path === '/commits') {
      const out = await git(this.gitDir, [
        'rev-list',
        '-n',
        q.get('pagelen') ?? '10',
        `refs/heads/${q.get('include')}`,
      ]);
      const values = await Promise.all(
        out
          .split('\n')
          .filter(Boolean)
          .map((sha) => this.commitJson(sha)),
      );
      return this.json(res, 200, { values, pagelen: values.length });
    }
    m = method === 'GET' ? path.match(/^\/commit\/([0-9a-f]+)$/) : null;
    if (m) {
      const sha = await this.commitId(m[1] ?? '');
      const found = sha ? await this.commitJson(sha).catch(() => null) : null;
      return found ? this.json(res, 200, found) : this.json(res, 404, { error: { message: 'Commit not found' } });
    }
    return this.pullRequests(method, path, q, text, res);
  }

  /** The one commit whose id starts with `hex`, looking at objects only (never a branch of that name); else null. */
  private async commitId(hex: string): Promise<string | null> {
    const out = await git(this.gitDir, ['rev-parse', `--disambiguate=${hex}`]).catch(() => '');
    const commits: string[] = [];
    for (const oid of out.split('\n').filter(Boolean)) {
      if ((await git(this.gitDir, ['cat-file', '-t', oid])).trim() === 'commit') commits.push(oid);
    }
    return commits.length === 1 ? (commits[0] ?? null) : null;
  }

  private async src(hex: string, path: string, q: URLSearchParams, res: ServerResponse): Promise<void> {
    const commit = await this.commitId(hex);
    if (!commit) return this.json(res, 404, { type: 'error', error: { message: `Commit not found: ${hex}` } });
    const folder = path.replace(/\/+$/, '');
    const type = (await git(this.gitDir, ['cat-file', '-t', `${commit}:${folder}`]).catch(() => '')).trim();
    if (type === '') return this.json(res, 404, { type: 'error', error: { message: 'No such file or directory' } });
    const entryType = type === 'tree' ? 'commit_directory' : 'commit_file';
    if (q.get('format') === 'meta') return this.json(res, 200, { type: entryType, path: folder });
    if (type !== 'tree') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(await git(this.gitDir, ['cat-file', 'blob', `${commit}:${folder}`]));
      return;
    }
    const out = await git(this.gitDir, ['ls-tree', commit, `${folder}/`]);
    const entries = out
      .split('\n')
      .filter(Boolean)
      .map((l) => ({
        type: l.split(' ')[1] === 'tree' ? 'commit_directory' : 'commit_file',
        path: l.split('\t')[1] ?? '',
      }));
    const page = Number(q.get('page') ?? '1');
    const size = Math.min(Number(q.get('pagelen') ?? '10'), this.pageSize);
    const values = entries.slice((page - 1) * size, page * size);
    const next =
      page * size < entries.length
        ? `${this.origin}${this.prefix}/src/${commit}/${folder}/?pagelen=${size}&page=${page + 1}`
        : undefined;
    return this.json(res, 200, { values, page, pagelen: size, ...(next ? { next } : {}) });
  }

  private async commit(form: URLSearchParams, res: ServerResponse): Promise<void> {
    const hook = this.beforeNextCommit;
    this.beforeNextCommit = null;
    if (hook) await hook();
    if (this.failNextCommit !== null) {
      const status = this.failNextCommit;
      this.failNextCommit = null;
      return this.json(res, status, { type: 'error', error: { message: 'Service unavailable' } });
    }
    const branch = form.get('branch') ?? '';
    const parent = form.get('parents') ?? '';
    const files = [...form.entries()]
      .filter(([k]) => k.startsWith('/'))
      .map(([k, v]) => ({ path: k.slice(1), content: v as string | null }));
    for (const deleted of form.getAll('files')) {
      if (!form.has(deleted)) files.push({ path: deleted.replace(/^\//, ''), content: null });
    }
    const tip = await this.repo.head(branch).catch(() => null);
    if (tip !== null && tip !== parent) {
      return this.json(res, 409, { type: 'error', error: { message: 'parents is not the tip of the branch' } });
    }
    const message = form.get('message') ?? '';
    const sha = await this.repo.commit({ branch, parent, files, message, createBranch: tip === null });
    res.writeHead(201, this.location ? { location: `${this.origin}${this.prefix}/commit/${sha}` } : {});
    res.end();
  }

  private async pullRequests(
    method: string,
    path: string,
    q: URLSearchParams,
    text: string,
    res: ServerResponse,
  ): Promise<void> {
    if (method === 'POST' && path === '/pullrequests') {
      const body = JSON.parse(text) as {
        title: string;
        description: string;
        source: { branch: { name: string } };
        destination: { branch: { name: string } };
      };
      const pr: BitbucketPullStandIn = {
        id: this.pulls.length + 1,
        title: body.title,
        description: body.description,
        source: body.source.branch.name,
        destination: body.destination.branch.name,
        state: 'OPEN',
        mergeCommit: null,
        comments: [],
      };
      this.pulls.push(pr);
      return this.json(res, 201, this.pull(pr));
    }
    if (method === 'GET' && path === '/pullrequests') {
      const source = (q.get('q') ?? '').match(/^source\.branch\.name="(.*)"$/)?.[1];
      const states = q.getAll('state').length > 0 ? q.getAll('state') : ['OPEN'];
      const found = this.pulls.filter((p) => p.source === source && states.includes(p.state));
      return this.json(res, 200, { values: found.map((p) => this.pull(p)), pagelen: 10 });
    }
    const m = path.match(/^\/pullrequests\/(\d+)\/(comments|decline)$/);
    const pr = m ? this.pulls.find((p) => p.id === Number(m[1])) : undefined;
    if (method === 'POST' && pr && m?.[2] === 'comments') {
      pr.comments.push((JSON.parse(text) as { content: { raw: string } }).content.raw);
      return this.json(res, 201, { type: 'pullrequest_comment', id: pr.comments.length });
    }
    if (method === 'POST' && pr && m?.[2] === 'decline') {
      pr.state = 'DECLINED';
      return this.json(res, 200, this.pull(pr));
    }
    return this.json(res, 404, { type: 'error', error: { message: `Not found: ${method} ${path}` } });
  }
}
