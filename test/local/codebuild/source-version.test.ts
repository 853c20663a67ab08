import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildDocument, BuildInputError, CodeBuildService } from '../../../local/services/codebuild';
import { BuildStore, type Db, openStateDb } from '../../../local/store';
import { gitRepository, removeDir, tempDir } from '../runtime/support';

/**
 * The source versions CodeBuild documents for Git sources ("Source version sample with AWS CodeBuild"; StartBuild's
 * `sourceVersion`), held against a real git repository with a branch that moved on, an annotated tag, and a pull
 * request ref whose head is on no branch (as a fork's commit is, in the base repository): each form checks out
 * exactly the commit it names, and says so in CODEBUILD_RESOLVED_SOURCE_VERSION.
 */

let state: string;
let db: Db;
let store: BuildStore;
let service: CodeBuildService;
let repo: ReturnType<typeof gitRepository>;
/** Commits: `feature` at `featureOld` then `featureNew`; `refs/pull/7/head` at `fork`, on no branch; tag v1. */
const sha = { main: '', featureOld: '', featureNew: '', fork: '', tagged: '' };

function git(...args: string[]): string {
  return execFileSync('git', args, {
    cwd: repo.dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.test' },
  }).trim();
}

beforeAll(() => {
  state = tempDir('codebuild-source');
  db = openStateDb(join(state, 'state.db'));
  store = new BuildStore(db);
  service = new CodeBuildService({
    store,
    workRoot: join(state, 'builds'),
    artifactsRoot: join(state, 'artifacts'),
    path: process.env['PATH'] ?? '',
    logUrl: (id) => `http://127.0.0.1/builds/${id}`,
  });
  service.registerProject({ name: 'stepline-build' });
  repo = gitRepository({ 'version.txt': 'main\n' });
  sha.main = repo.sha;
  git('checkout', '--quiet', '-b', 'feature');
  sha.featureOld = repo.commit({ 'version.txt': 'feature one\n' });
  sha.featureNew = repo.commit({ 'version.txt': 'feature two\n' });
  git('checkout', '--quiet', '--detach', sha.main);
  sha.fork = repo.commit({ 'version.txt': 'from a fork\n' });
  git('update-ref', 'refs/pull/7/head', sha.fork);
  git('checkout', '--quiet', 'main');
  sha.tagged = repo.commit({ 'version.txt': 'release\n' });
  git('tag', '-a', 'v1', '-m', 'v1', sha.tagged);
  repo.commit({ 'version.txt': 'after the release\n' });
});

afterAll(() => {
  db.close();
  removeDir(state);
  removeDir(repo.dir);
});

const PRINT = [
  'version: 0.2',
  'phases:',
  '  build:',
  '    commands:',
  '      - echo "resolved=$CODEBUILD_RESOLVED_SOURCE_VERSION head=$(git rev-parse HEAD) version=$(cat version.txt)"',
  '      - echo "asked=$CODEBUILD_SOURCE_VERSION"',
].join('\n');

async function build(sourceVersion: string): Promise<{ doc: BuildDocument; log: string }> {
  const started = service.startBuild({
    projectName: 'stepline-build',
    sourceLocationOverride: repo.dir,
    sourceVersion,
    buildspecOverride: PRINT,
  });
  const doc = await service.wait(started.id);
  return { doc, log: store.logText(doc.id) };
}

describe('source versions', () => {
  it.each([
    [
      'a branch with the commit, the branch having moved on since',
      () => `refs/heads/feature^{${sha.featureOld}}`,
      () => sha.featureOld,
      'feature one',
    ],
    [
      "a pull request's ref with its head commit, which is on no branch",
      () => `refs/pull/7/head^{${sha.fork}}`,
      () => sha.fork,
      'from a fork',
    ],
    ['an annotated tag with its commit', () => `refs/tags/v1^{${sha.tagged}}`, () => sha.tagged, 'release'],
    ["GitHub's pr/<number>: the pull request's head", () => 'pr/7', () => sha.fork, 'from a fork'],
    ['a branch name: its head', () => 'feature', () => sha.featureNew, 'feature two'],
    ['a commit ID', () => sha.featureOld, () => sha.featureOld, 'feature one'],
  ])('checks out exactly the commit of %s', async (_case, version, expected, content) => {
    // Act
    const { doc, log } = await build(version());

    // Assess
    expect(doc.buildStatus).toBe('SUCCEEDED');
    expect(doc.resolvedSourceVersion).toBe(expected());
    expect(log).toContain(`resolved=${expected()} head=${expected()} version=${content}`);
    expect(log).toContain(`asked=${version()}`);
  });

  it('fails DOWNLOAD_SOURCE when the commit is not in the history of the reference it comes with', async () => {
    // Act
    const { doc } = await build(`refs/heads/main^{${sha.fork}}`);

    // Assess
    expect(doc.buildStatus).toBe('FAILED');
    const download = doc.phases.find((p) => p.phaseType === 'DOWNLOAD_SOURCE');
    expect(download?.contexts?.[0]).toMatchObject({
      statusCode: 'CLIENT_ERROR',
      message: expect.stringContaining(`commit ${sha.fork} is not in the history of refs/heads/main`),
    });
    expect(doc.phases.some((p) => p.phaseType === 'BUILD')).toBe(false);
  });

  it('fails DOWNLOAD_SOURCE, naming the reference, for a pull request the repository does not have', async () => {
    // Act
    const { doc } = await build('pr/9');

    // Assess
    expect(doc.buildStatus).toBe('FAILED');
    const download = doc.phases.find((p) => p.phaseType === 'DOWNLOAD_SOURCE');
    expect(download?.contexts?.[0]?.message).toMatch(/could not check out pr\/9 from .*refs\/pull\/9\/head/);
  });

  it('refuses at StartBuild a reference whose commit is not a full SHA', () => {
    // Act
    const attempt = () =>
      service.startBuild({
        projectName: 'stepline-build',
        sourceLocationOverride: repo.dir,
        sourceVersion: 'refs/heads/main^{abc123}',
      });

    // Assess
    expect(attempt).toThrow(BuildInputError);
    expect(attempt).toThrow(/full commit SHA \(40 hex digits\)/);
  });
});
