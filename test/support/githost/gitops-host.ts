import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A stand-in for the part of GitHub's REST API (and, below `/api/v4`, GitLab's) that a GitOps delivery uses, on 127.0.0.1, over a real bare git
 * repository: refs (`GET /git/ref/heads/{b}`, `POST /git/refs`, `PATCH /git/refs/heads/{b}` refusing a
 * non-fast-forward with 422 as GitHub does), `GET /contents/{path}?ref=`, `GET /git/trees/{ref}?recursive=1`,
 * `POST /git/trees` (base_tree, inline content, `sha: null` deletes), `POST /git/commits`, `GET /git/commits/{sha}`,
 * `GET /commits?sha=`, pull requests (`POST /pulls`, `GET /pulls?head=owner:branch&state=all`, `PATCH /pulls/{n}`),
 * `POST /issues/{n}/comments`. `merge(n)` merges a pull request as a person would (a merge commit on the base).
 * Every request is recorded; the token is checked when `token` is given.
 */

export interface StandInPull {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  state: 'open' | 'closed';
  merged_at: string | null;
  merge_commit_sha: string | null;
  comments: string[];
}

function git(gitDir: string, args: readonly string[], input?: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      ['--git-dir', gitDir, ...args],
      {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'Host',
          GIT_AUTHOR_EMAIL: 'host@example.test',
          GIT_COMMITTER_NAME: 'Host',
          GIT_COMMITTER_EMAIL: 'host@example.test',
          ...env,
        },
      },
      (error, stdout) => (error ? reject(error) : resolve(String(stdout))),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

export class GitOpsHostStandIn {
  public readonly requests: { method: string; path: string; authorization: string | undefined }[] = [];
  public readonly pulls: StandInPull[] = [];
  private server: Server | null = null;

  public constructor(
    public readonly gitDir: string,
    public readonly fullName: string,
    private readonly token?: string,
  ) {}

  public get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    return `http://127.0.0.1:${address?.port}`;
  }

  public async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((error: unknown) => this.json(res, 500, { message: String(error) }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Merges pull request `number` into its base with a merge commit, as a reviewer's "Merge" does. */
  public async merge(number: number): Promise<string> {
    const pr = this.pulls.find((p) => p.number === number);
    if (!pr) throw new Error(`no pull request ${number}`);
    const base = (await git(this.gitDir, ['rev-parse', `refs/heads/${pr.base}`])).trim();
    const head = (await git(this.gitDir, ['rev-parse', `refs/heads/${pr.head}`])).trim();
    const tree = (await git(this.gitDir, ['rev-parse', `${head}^{tree}`])).trim();
    const merge = (
      await git(this.gitDir, ['commit-tree', tree, '-p', base, '-p', head, '-m', `Merge pull request #${number}`])
    ).trim();
    await git(this.gitDir, ['update-ref', `refs/heads/${pr.base}`, merge, base]);
    Object.assign(pr, { state: 'closed', merged_at: new Date().toISOString(), merge_commit_sha: merge });
    return merge;
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private pull(pr: StandInPull) {
    return {
      ...pr,
      html_url: `https://github.example.test/${this.fullName}/pull/${pr.number}`,
      head: { ref: pr.head },
      base: { ref: pr.base },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization });
    const authorized =
      req.headers.authorization === `Bearer ${this.token}` || req.headers['private-token'] === this.token;
    if (this.token && !authorized) return this.json(res, 401, { message: 'Bad credentials' });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    const gitlabPrefix = `/api/v4/projects/${encodeURIComponent(this.fullName)}`;
    const raw = (req.url ?? '').split('?')[0] ?? '';
    if (raw.startsWith(gitlabPrefix)) {
      return this.gitlab(
        req.method ?? '',
        decodeURIComponent(raw.slice(gitlabPrefix.length)),
        url.searchParams,
        body,
        res,
      );
    }
    const prefix = `/repos/${this.fullName}`;
    if (!url.pathname.startsWith(prefix)) return this.json(res, 404, { message: 'Not Found' });
    const path = decodeURIComponent(url.pathname.slice(prefix.length));
    const q = url.searchParams;
    const m = req.method;
    const d = this.gitDir;
    let match: RegExpMatchArray | null;
    match = m === 'GET' ? path.match(/^\/git\/ref\/heads\/(.+)$/) : null;
    if (match) {
      const sha = await git(d, ['rev-parse', '--verify', `refs/heads/${match[1]}`]).catch(() => null);
      return sha
        ? this.json(res, 200, { object: { sha: sha.trim(), type: 'commit' } })
        : this.json(res, 404, { message: 'Not Found' });
    }
    match = m === 'GET' ? path.match(/^\/contents\/(.+)$/) : null;
    if (match) {
      const ref = q.get('ref') ?? 'HEAD';
      const content = await git(d, ['cat-file', 'blob', `${ref}:${match[1]}`]).catch(() => null);
      if (content === null) return this.json(res, 404, { message: 'Not Found' });
      return this.json(res, 200, {
        type: 'file',
        encoding: 'base64',
        path: match[1],
        content: Buffer.from(content).toString('base64'),
      });
    }
    match = m === 'GET' ? path.match(/^\/git\/trees\/(.+)$/) : null;
    if (match) {
      const out = await git(d, ['ls-tree', '-r', match[1] ?? '']);
      const tree = out
        .split('\n')
        .filter(Boolean)
        .map((l) => ({ path: l.split('\t')[1], type: l.split(' ')[1], sha: l.split(' ')[2]?.split('\t')[0] }));
      return this.json(res, 200, { sha: match[1], tree, truncated: false });
    }
    match = m === 'GET' ? path.match(/^\/git\/commits\/([0-9a-f]+)$/) : null;
    if (match) {
      const [tree, parents] = (await git(d, ['show', '-s', '--format=%T%x00%P', match[1] ?? ''])).trim().split('\0');
      return this.json(res, 200, {
        sha: match[1],
        tree: { sha: tree },
        parents: (parents ?? '')
          .split(' ')
          .filter(Boolean)
          .map((sha) => ({ sha })),
      });
    }
    if (m === 'POST' && path === '/git/trees') {
      const dir = await mkdtemp(join(tmpdir(), 'stand-in-index-'));
      const env = { GIT_INDEX_FILE: join(dir, 'index') };
      try {
        await git(d, ['read-tree', String(body['base_tree'])], undefined, env);
        for (const e of body['tree'] as { path: string; sha?: null; content?: string }[]) {
          if (e.sha === null) await git(d, ['update-index', '--index-info'], `0 ${'0'.repeat(40)}\t${e.path}\n`, env);
          else {
            const blob = (await git(d, ['hash-object', '-w', '--stdin'], e.content ?? '')).trim();
            await git(d, ['update-index', '--add', '--cacheinfo', `100644,${blob},${e.path}`], undefined, env);
          }
        }
        return this.json(res, 201, { sha: (await git(d, ['write-tree'], undefined, env)).trim() });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    if (m === 'POST' && path === '/git/commits') {
      const parents = (body['parents'] as string[]).flatMap((p) => ['-p', p]);
      const sha = (
        await git(d, ['commit-tree', String(body['tree']), ...parents, '-F', '-'], String(body['message']))
      ).trim();
      return this.json(res, 201, { sha });
    }
    if (m === 'POST' && path === '/git/refs') {
      const ok = await git(d, ['update-ref', String(body['ref']), String(body['sha']), '']).then(
        () => true,
        () => false,
      );
      return ok
        ? this.json(res, 201, { ref: body['ref'], object: { sha: body['sha'] } })
        : this.json(res, 422, { message: 'Reference already exists' });
    }
    match = m === 'PATCH' ? path.match(/^\/git\/refs\/heads\/(.+)$/) : null;
    if (match) {
      const old = (await git(d, ['rev-parse', `refs/heads/${match[1]}`])).trim();
      const fastForward = await git(d, ['merge-base', '--is-ancestor', old, String(body['sha'])]).then(
        () => true,
        () => false,
      );
      if (!fastForward && body['force'] !== true)
        return this.json(res, 422, { message: 'Update is not a fast forward' });
      await git(d, ['update-ref', `refs/heads/${match[1]}`, String(body['sha']), old]);
      return this.json(res, 200, { object: { sha: body['sha'] } });
    }
    if (m === 'GET' && path === '/commits') {
      const out = await git(d, [
        'log',
        '-n',
        q.get('per_page') ?? '30',
        '--format=%H%x00%P%x00%B%x1e',
        q.get('sha') ?? 'HEAD',
      ]);
      const list = out
        .split('\x1e')
        .map((e) => e.replace(/^\n/, ''))
        .filter(Boolean)
        .map((e) => {
          const [sha, parents, message] = e.split('\0');
          return {
            sha,
            commit: { message: (message ?? '').replace(/\n$/, '') },
            parents: (parents ?? '')
              .split(' ')
              .filter(Boolean)
              .map((p) => ({ sha: p })),
          };
        });
      return this.json(res, 200, list);
    }
    if (m === 'POST' && path === '/pulls') {
      const pr: StandInPull = {
        number: this.pulls.length + 1,
        title: String(body['title']),
        body: String(body['body']),
        head: String(body['head']),
        base: String(body['base']),
        state: 'open',
        merged_at: null,
        merge_commit_sha: null,
        comments: [],
      };
      this.pulls.push(pr);
      return this.json(res, 201, this.pull(pr));
    }
    if (m === 'GET' && path === '/pulls') {
      const head = (q.get('head') ?? '').split(':').slice(1).join(':');
      return this.json(
        res,
        200,
        this.pulls.filter((p) => p.head === head).map((p) => this.pull(p)),
      );
    }
    match = m === 'PATCH' ? path.match(/^\/pulls\/(\d+)$/) : null;
    if (match) {
      const pr = this.pulls.find((p) => p.number === Number(match?.[1]));
      if (!pr) return this.json(res, 404, { message: 'Not Found' });
      if (body['state'] === 'closed') pr.state = 'closed';
      return this.json(res, 200, this.pull(pr));
    }
    match = m === 'POST' ? path.match(/^\/issues\/(\d+)\/comments$/) : null;
    if (match) {
      this.pulls.find((p) => p.number === Number(match?.[1]))?.comments.push(String(body['body']));
      return this.json(res, 201, { id: 1 });
    }
    return this.json(res, 404, { message: `Not Found: ${m} ${path}` });
  }

  private mergeRequest(pr: StandInPull) {
    return {
      iid: pr.number,
      web_url: `https://gitlab.example.test/${this.fullName}/-/merge_requests/${pr.number}`,
      state: pr.merged_at ? 'merged' : pr.state === 'open' ? 'opened' : 'closed',
      merge_commit_sha: pr.merge_commit_sha,
      source_branch: pr.head,
      target_branch: pr.base,
    };
  }

  /** GitLab's REST API v4, the part a GitOps delivery uses: branches, files, tree, commits with actions, merge requests. */
  private async gitlab(
    m: string,
    path: string,
    q: URLSearchParams,
    body: Record<string, unknown>,
    res: ServerResponse,
  ): Promise<void> {
    const d = this.gitDir;
    let match: RegExpMatchArray | null;
    const lastCommit = async (ref: string, file: string) =>
      (await git(d, ['log', '-1', '--format=%H', ref, '--', file])).trim();
    match = m === 'GET' ? path.match(/^\/repository\/branches\/(.+)$/) : null;
    if (match) {
      const sha = await git(d, ['rev-parse', '--verify', `refs/heads/${match[1]}`]).catch(() => null);
      return sha
        ? this.json(res, 200, { name: match[1], commit: { id: sha.trim() } })
        : this.json(res, 404, { message: '404 Branch Not Found' });
    }
    match = m === 'GET' ? path.match(/^\/repository\/files\/(.+)$/) : null;
    if (match) {
      const ref = q.get('ref') ?? 'HEAD';
      const content = await git(d, ['cat-file', 'blob', `${ref}:${match[1]}`]).catch(() => null);
      if (content === null) return this.json(res, 404, { message: '404 File Not Found' });
      return this.json(res, 200, {
        file_path: match[1],
        encoding: 'base64',
        content: Buffer.from(content).toString('base64'),
        last_commit_id: await lastCommit(ref, match[1] ?? ''),
      });
    }
    if (m === 'GET' && path === '/repository/tree') {
      const out = await git(d, ['ls-tree', '-r', q.get('ref') ?? 'HEAD', '--', q.get('path') ?? '.']);
      const entries = out.split('\n').filter(Boolean);
      return this.json(
        res,
        200,
        entries.map((l) => ({ path: l.split('\t')[1], type: l.split(' ')[1] })),
      );
    }
    if (m === 'POST' && path === '/repository/commits') {
      const branch = String(body['branch']);
      const existing = await git(d, ['rev-parse', '--verify', `refs/heads/${branch}`]).then(
        (x) => x.trim(),
        () => null,
      );
      const parent = body['start_sha'] ? String(body['start_sha']) : existing;
      if (!parent || (body['start_sha'] && existing)) {
        return this.json(res, 400, { message: 'A branch called this already exists' });
      }
      const dir = await mkdtemp(join(tmpdir(), 'stand-in-index-'));
      const env = { GIT_INDEX_FILE: join(dir, 'index') };
      try {
        await git(d, ['read-tree', parent], undefined, env);
        const actions = body['actions'] as {
          action: string;
          file_path: string;
          content?: string;
          last_commit_id?: string;
        }[];
        for (const a of actions) {
          // GitLab checks last_commit_id against the branch it commits to: the file changed since it was read.
          if (a.last_commit_id && a.last_commit_id !== (await lastCommit(existing ?? parent, a.file_path))) {
            return this.json(res, 400, {
              message: 'You are attempting to update a file that has changed since you started editing it.',
            });
          }
          if (a.action === 'delete')
            await git(d, ['update-index', '--index-info'], `0 ${'0'.repeat(40)}\t${a.file_path}\n`, env);
          else {
            const blob = (await git(d, ['hash-object', '-w', '--stdin'], a.content ?? '')).trim();
            await git(d, ['update-index', '--add', '--cacheinfo', `100644,${blob},${a.file_path}`], undefined, env);
          }
        }
        const tree = (await git(d, ['write-tree'], undefined, env)).trim();
        const sha = (
          await git(d, ['commit-tree', tree, '-p', parent, '-F', '-'], String(body['commit_message']))
        ).trim();
        await git(d, ['update-ref', `refs/heads/${branch}`, sha, existing ?? '']);
        return this.json(res, 201, { id: sha, parent_ids: [parent] });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    if (m === 'GET' && path === '/repository/commits') {
      const ref = q.get('ref_name') ?? 'HEAD';
      const out = await git(d, ['log', '-n', q.get('per_page') ?? '20', '--format=%H%x00%P%x00%B%x1e', ref]);
      const list = out
        .split('\x1e')
        .map((e) => e.replace(/^\n/, ''))
        .filter(Boolean)
        .map((e) => {
          const [id, parents, message] = e.split('\0');
          return { id, message: message ?? '', parent_ids: (parents ?? '').split(' ').filter(Boolean) };
        });
      return this.json(res, 200, list);
    }
    match = m === 'GET' ? path.match(/^\/repository\/commits\/([0-9a-f]+)$/) : null;
    if (match) {
      const parents = (await git(d, ['show', '-s', '--format=%P', match[1] ?? ''])).trim();
      return this.json(res, 200, { id: match[1], parent_ids: parents.split(' ').filter(Boolean) });
    }
    if (m === 'POST' && path === '/merge_requests') {
      const pr: StandInPull = {
        number: this.pulls.length + 1,
        title: String(body['title']),
        body: String(body['description']),
        head: String(body['source_branch']),
        base: String(body['target_branch']),
        state: 'open',
        merged_at: null,
        merge_commit_sha: null,
        comments: [],
      };
      this.pulls.push(pr);
      return this.json(res, 201, this.mergeRequest(pr));
    }
    if (m === 'GET' && path === '/merge_requests') {
      const found = this.pulls.filter((p) => p.head === q.get('source_branch'));
      return this.json(
        res,
        200,
        found.map((p) => this.mergeRequest(p)),
      );
    }
    match = m === 'POST' ? path.match(/^\/merge_requests\/(\d+)\/notes$/) : null;
    if (match) {
      this.pulls.find((p) => p.number === Number(match?.[1]))?.comments.push(String(body['body']));
      return this.json(res, 201, { id: 1 });
    }
    match = m === 'PUT' ? path.match(/^\/merge_requests\/(\d+)$/) : null;
    if (match) {
      const pr = this.pulls.find((p) => p.number === Number(match?.[1]));
      if (!pr) return this.json(res, 404, { message: '404 Not found' });
      if (body['state_event'] === 'close') pr.state = 'closed';
      return this.json(res, 200, this.mergeRequest(pr));
    }
    return this.json(res, 404, { message: `404 Not Found: ${m} ${path}` });
  }
}
