import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitOpsConflict, GitOpsRepositoryError } from '../../core/gitops/errors';
import type { CommitRequest, ConfigRepository, PullRequestInfo } from '../../core/gitops/ports';

/**
 * The configuration repository as a bare git repository on this machine (`.stepline/gitops/<name>.git` in the
 * local runtime, docs/adr/0103), through git's plumbing: a commit is built in a temporary index from its parent's
 * tree and the branch is moved with `update-ref <new> <old>`, which fails when the branch moved in between (the
 * same compare-and-swap a push makes). No working tree, no checkout. It has no pull requests: `mode: "pullRequest"`
 * needs a Git host (adapters/githost/gitops-*.ts).
 */

const AUTHOR = { name: 'Stepline', email: 'stepline@localhost' };

function run(
  gitDir: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      ['--git-dir', gitDir, ...args],
      {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: AUTHOR.name,
          GIT_AUTHOR_EMAIL: AUTHOR.email,
          GIT_COMMITTER_NAME: AUTHOR.name,
          GIT_COMMITTER_EMAIL: AUTHOR.email,
          ...options.env,
        },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr: String(stderr) }));
        else resolve(String(stdout));
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

function reasonOf(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr ?? '';
  return stderr.trim().split('\n').slice(-1)[0] || (error instanceof Error ? error.message : String(error));
}

export class LocalGitRepository implements ConfigRepository {
  public readonly label: string;

  public constructor(
    private readonly gitDir: string,
    name = gitDir,
  ) {
    this.label = `local:${name}`;
  }

  /** Creates a bare repository with one commit of `files` on `branch` (the demo and tests seed theirs this way). */
  public static async create(
    gitDir: string,
    branch: string,
    files: Readonly<Record<string, string>>,
    name?: string,
  ): Promise<LocalGitRepository> {
    await new Promise<void>((resolve, reject) =>
      execFile('git', ['init', '--bare', '--quiet', `--initial-branch=${branch}`, gitDir], (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    const repo = new LocalGitRepository(gitDir, name);
    const index = await repo.tempIndex();
    try {
      for (const [path, content] of Object.entries(files)) await repo.stage(index.file, path, content);
      const tree = (await run(gitDir, ['write-tree'], { env: { GIT_INDEX_FILE: index.file } })).trim();
      const sha = (await run(gitDir, ['commit-tree', tree, '-F', '-'], { input: 'Initial configuration\n' })).trim();
      await run(gitDir, ['update-ref', `refs/heads/${branch}`, sha, '']);
    } finally {
      await index.remove();
    }
    return repo;
  }

  private git(args: readonly string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<string> {
    return run(this.gitDir, args, options).catch((error: unknown) => {
      throw new GitOpsRepositoryError(`${this.label}: git ${args[0]} failed: ${reasonOf(error)}`);
    });
  }

  public async head(branch: string): Promise<string> {
    return (await this.git(['rev-parse', '--verify', `refs/heads/${branch}^{commit}`])).trim();
  }

  public async readFile(ref: string, path: string): Promise<string | null> {
    try {
      return await run(this.gitDir, ['cat-file', 'blob', `${ref}:${path}`]);
    } catch {
      return null;
    }
  }

  public async listFiles(ref: string, folder: string): Promise<string[]> {
    const out = await this.git(['ls-tree', '-r', '--name-only', ref, '--', folder.replace(/\/+$/, '')]);
    return out.split('\n').filter(Boolean).sort();
  }

  private async tempIndex(): Promise<{ file: string; remove: () => Promise<void> }> {
    const dir = await mkdtemp(join(tmpdir(), 'stepline-gitops-'));
    return { file: join(dir, 'index'), remove: () => rm(dir, { recursive: true, force: true }) };
  }

  private async stage(indexFile: string, path: string, content: string | null): Promise<void> {
    const env = { GIT_INDEX_FILE: indexFile };
    if (content === null) {
      // `--force-remove` needs a work tree; mode 0 through `--index-info` removes the entry in a bare repository.
      await this.git(['update-index', '--index-info'], { env, input: `0 ${'0'.repeat(40)}\t${path}\n` });
      return;
    }
    const blob = (await this.git(['hash-object', '-w', '--stdin'], { input: content })).trim();
    await this.git(['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], { env });
  }

  public async commit(request: CommitRequest): Promise<string> {
    const index = await this.tempIndex();
    const env = { GIT_INDEX_FILE: index.file };
    try {
      await this.git(['read-tree', request.parent], { env });
      for (const file of request.files) await this.stage(index.file, file.path, file.content);
      const tree = (await this.git(['write-tree'], { env })).trim();
      const sha = (
        await this.git(['commit-tree', tree, '-p', request.parent, '-F', '-'], { input: `${request.message}\n` })
      ).trim();
      const old = request.createBranch ? '' : request.parent;
      try {
        await run(this.gitDir, ['update-ref', `refs/heads/${request.branch}`, sha, old]);
      } catch (error) {
        throw new GitOpsConflict(
          `${this.label}: ${request.branch} moved while Stepline wrote to it: ${reasonOf(error)}`,
        );
      }
      return sha;
    } finally {
      await index.remove();
    }
  }

  public async findCommit(
    branch: string,
    trailers: Readonly<Record<string, string>>,
  ): Promise<{ sha: string; parent: string } | null> {
    const out = await this.git(['log', '-n', '200', '--format=%H%x00%P%x00%B%x1e', `refs/heads/${branch}`]);
    for (const entry of out.split('\x1e')) {
      const [sha, parents, body] = entry.replace(/^\n/, '').split('\0');
      if (!sha || body === undefined) continue;
      const lines = new Set(body.split('\n').map((l) => l.trim()));
      if (Object.entries(trailers).every(([k, v]) => lines.has(`${k}: ${v}`))) {
        return { sha, parent: parents?.split(' ')[0] ?? '' };
      }
    }
    return null;
  }

  public async firstParent(sha: string): Promise<string | null> {
    try {
      return (await run(this.gitDir, ['rev-parse', '--verify', `${sha}^1`])).trim();
    } catch {
      return null;
    }
  }

  private noPullRequests(): never {
    throw new GitOpsRepositoryError(
      `${this.label} is a local repository without pull requests: use mode "commit", or a Git host`,
    );
  }

  public openPullRequest(): Promise<PullRequestInfo> {
    return Promise.resolve().then(() => this.noPullRequests());
  }

  public async findPullRequest(): Promise<PullRequestInfo | null> {
    return null;
  }

  public closePullRequest(): Promise<void> {
    return Promise.resolve().then(() => this.noPullRequests());
  }
}
