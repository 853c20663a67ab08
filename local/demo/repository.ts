import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DemoError } from './errors';

/**
 * The sample service repository of the demo: the files of `local/demo/sample/` copied into a folder, made a git
 * repository on `main` and committed, as a developer's clone would be. The runtime's builds clone it by its path.
 */

const run = promisify(execFile);

/** The folder the sample is copied from. */
export const SAMPLE_DIR = resolve(__dirname, 'sample');

/** The repository's full name on the (pretend) Git host, as `stepline.config.json` names it. */
export const SAMPLE_REPOSITORY = 'stepline-demo/hello-service';

/** The committer of the demo's commits: fixed, so that a user's git configuration is neither needed nor used. */
const AUTHOR = { name: 'Stepline Demo', email: 'demo@stepline.invalid' } as const;

export interface SampleRepository {
  /** The working tree (and clone URL: a local path). */
  readonly dir: string;
  readonly name: string;
  /** The branch the commits are on. */
  readonly branch: string;
  /** The configuration file in the repository. */
  readonly configFile: string;
  /** The commit at the tip of `branch`. */
  readonly head: string;
  /** The commit before `head`, or null for the first one. */
  readonly before: string | null;
  /** The paths the tip commit added, modified and removed. */
  readonly changes: Changes;
  readonly message: string;
}

export interface Changes {
  readonly added: readonly string[];
  readonly modified: readonly string[];
  readonly removed: readonly string[];
}

async function git(dir: string, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', args, {
      cwd: dir,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: dir,
        LANG: 'C',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_AUTHOR_NAME: AUTHOR.name,
        GIT_AUTHOR_EMAIL: AUTHOR.email,
        GIT_COMMITTER_NAME: AUTHOR.name,
        GIT_COMMITTER_EMAIL: AUTHOR.email,
      },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new DemoError(
      missing ? 'git is not installed: the demo needs it to make the sample repository' : `git ${args[0]}: ${detail}`,
      { cause: error },
    );
  }
}

async function describeHead(dir: string, branch: string, configFile: string): Promise<SampleRepository> {
  const head = await git(dir, 'rev-parse', 'HEAD');
  const parents = (await git(dir, 'rev-list', '--parents', '-n', '1', 'HEAD')).split(' ').slice(1);
  const before = parents[0] ?? null;
  const message = await git(dir, 'log', '-1', '--format=%s');
  const status = before
    ? await git(dir, 'diff', '--name-status', '--no-renames', before, head)
    : (await git(dir, 'ls-tree', '-r', '--name-only', head))
        .split('\n')
        .filter(Boolean)
        .map((path) => `A\t${path}`)
        .join('\n');
  const changes = { added: [] as string[], modified: [] as string[], removed: [] as string[] };
  for (const line of status.split('\n').filter(Boolean)) {
    const [kind, path] = line.split('\t') as [string, string];
    if (kind.startsWith('A')) changes.added.push(path);
    else if (kind.startsWith('D')) changes.removed.push(path);
    else changes.modified.push(path);
  }
  return { dir, name: SAMPLE_REPOSITORY, branch, configFile, head, before, changes, message };
}

/** Copies the sample into `dir` (which must not hold a repository yet), `git init`s it and commits it on `main`. */
export async function createSampleRepository(dir: string): Promise<SampleRepository> {
  if (existsSync(join(dir, '.git'))) throw new DemoError(`${dir} already holds a git repository`);
  cpSync(SAMPLE_DIR, dir, { recursive: true });
  await git(dir, 'init', '--quiet', '--initial-branch=main');
  await git(dir, 'add', '--all');
  await git(dir, 'commit', '--quiet', '--no-gpg-sign', '-m', 'Add hello-service');
  return describeHead(dir, 'main', join(dir, 'stepline.config.json'));
}

/**
 * Commits a change to the repository: `files` written (paths relative to it, folders made as needed), then one
 * commit with `message`.
 * Answers the repository as it is after the commit.
 */
export async function commitChange(
  repository: SampleRepository,
  files: Readonly<Record<string, string>>,
  message: string,
): Promise<SampleRepository> {
  for (const [path, text] of Object.entries(files)) {
    const file = join(repository.dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  await git(repository.dir, 'add', '--all');
  await git(repository.dir, 'commit', '--quiet', '--no-gpg-sign', '--allow-empty', '-m', message);
  return describeHead(repository.dir, repository.branch, repository.configFile);
}

/** The repository's pipeline configuration, as text. */
export function readConfig(repository: SampleRepository): string {
  return readFileSync(repository.configFile, 'utf8');
}
