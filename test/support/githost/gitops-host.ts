import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A stand-in for the part of GitHub's REST API that a GitOps delivery uses, on 127.0.0.1, over a real bare git
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

export class GitHubGitOpsStandIn {
  public readonly requests: { method: string; path: string; authorization: string | undefined }[] = [];
  public readonly pulls: StandInPull[] = [];
  private server: Server | null = null;

  public constructor(
    public readonly gitDir: string,
    public readonly fullName: string,
    private readonly token?: string,
  ) {}

  public get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
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
    if (this.token && req.headers.authorization !== `Bearer ${this.token}`)
      return this.json(res, 401, { message: 'Bad credentials' });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
    const prefix = `/repos/${this.fullName}`;
    if (!url.pathname.startsWith(prefix)) return this.json(res, 404, { message: 'Not Found' });
    const path = decodeURIComponent(url.pathname.slice(prefix.length));
    const q = url.searchParams;
    const m = req.method;
    const d = this.gitDir;
    let match: RegExpMatchArray | null;
    if (m === 'GET' && (match = path.match(/^\/git\/ref\/heads\/(.+)$/))) {
      const sha = await git(d, ['rev-parse', '--verify', `refs/heads/${match[1]}`]).catch(() => null);
      return sha
        ? this.json(res, 200, { object: { sha: sha.trim(), type: 'commit' } })
        : this.json(res, 404, { message: 'Not Found' });
    }
    if (m === 'GET' && (match = path.match(/^\/contents\/(.+)$/))) {
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
    if (m === 'GET' && (match = path.match(/^\/git\/trees\/(.+)$/))) {
      const out = await git(d, ['ls-tree', '-r', match[1] ?? '']);
      const tree = out
        .split('\n')
        .filter(Boolean)
        .map((l) => ({ path: l.split('\t')[1], type: l.split(' ')[1], sha: l.split(' ')[2]?.split('\t')[0] }));
      return this.json(res, 200, { sha: match[1], tree, truncated: false });
    }
    if (m === 'GET' && (match = path.match(/^\/git\/commits\/([0-9a-f]+)$/))) {
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
          if (e.sha === null) await git(d, ['update-index', '--force-remove', '--', e.path], undefined, env);
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
    if (m === 'PATCH' && (match = path.match(/^\/git\/refs\/heads\/(.+)$/))) {
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
    if (m === 'PATCH' && (match = path.match(/^\/pulls\/(\d+)$/))) {
      const pr = this.pulls.find((p) => p.number === Number(match?.[1]));
      if (!pr) return this.json(res, 404, { message: 'Not Found' });
      if (body['state'] === 'closed') pr.state = 'closed';
      return this.json(res, 200, this.pull(pr));
    }
    if (m === 'POST' && (match = path.match(/^\/issues\/(\d+)\/comments$/))) {
      this.pulls.find((p) => p.number === Number(match?.[1]))?.comments.push(String(body['body']));
      return this.json(res, 201, { id: 1 });
    }
    return this.json(res, 404, { message: `Not Found: ${m} ${path}` });
  }
}
