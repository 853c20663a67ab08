import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileManifestSource } from '../../../adapters/local/artifacts';
import { type BuildDocument, CodeBuildService, installBuildTools } from '../../../local/services/codebuild';
import { BuildStore, type Db, openStateDb } from '../../../local/store';
import { gitRepository, removeDir, tempDir } from '../runtime/support';

/**
 * The local CodeBuild's own buildspecs for Stepline's projects (ADR 0064): a build that a pipeline starts without
 * a BuildspecOverride (the repository names no buildspec) does locally what the project's buildspec does on AWS.
 * Its manifests are read back with the deploy function's own file source, as the local runtime's deploys read them.
 */

const HAS_BUILDAH = (() => {
  try {
    execFileSync('buildah', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let state: string;
let db: Db;
let store: BuildStore;
/** Without `stepline-build-image` on its PATH, as where buildah is not installed. */
let plain: CodeBuildService;
/** With the runtime's build tools on its PATH. */
let tooled: CodeBuildService;
let repo: ReturnType<typeof gitRepository>;

beforeAll(async () => {
  state = tempDir('codebuild-defaults');
  db = openStateDb(join(state, 'state.db'));
  store = new BuildStore(db);
  const service = (name: string, path: string) =>
    new CodeBuildService({
      store,
      workRoot: join(state, name, 'builds'),
      artifactsRoot: join(state, name, 'artifacts'),
      path,
      logUrl: (id) => `http://127.0.0.1/builds/${id}`,
    });
  plain = service('plain', process.env['PATH'] ?? '');
  tooled = service('tooled', (await installBuildTools(join(state, 'bin'))).path);
  for (const codebuild of [plain, tooled]) {
    codebuild.registerProject({ name: 'stepline-build' });
    codebuild.registerProject({ name: 'stepline-build-untrusted', untrusted: true });
    codebuild.registerProject({ name: 'stepline-test' });
  }
  repo = gitRepository({
    Containerfile: 'FROM scratch\nCOPY version.txt /version.txt\n',
    'version.txt': 'one\n',
    'deploy/staging/app.yaml': 'kind: Deployment\n',
    'deploy/staging/extra/service.yml': 'kind: Service\n',
    'k8s/production.yaml': 'kind: Deployment\n',
  });
});

afterAll(() => {
  db.close();
  removeDir(state);
  removeDir(repo.dir);
});

async function build(
  codebuild: CodeBuildService,
  project: string,
  variables: Record<string, string>,
): Promise<{ doc: BuildDocument; log: string }> {
  const started = codebuild.startBuild({
    projectName: project,
    sourceLocationOverride: repo.dir,
    sourceVersion: `refs/heads/main^{${repo.sha}}`,
    environmentVariablesOverride: Object.entries({
      IMAGE_REPOSITORY: 'shop/api',
      IMAGE_REPOSITORY_URI: '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api',
      IMAGE_TAG: repo.sha,
      STEPLINE_COMMIT: repo.sha,
      ...variables,
    }).map(([name, value]) => ({ name, value, type: 'PLAINTEXT' })),
  });
  const doc = await codebuild.wait(started.id);
  return { doc, log: store.logText(doc.id) };
}

const exported = (doc: BuildDocument) =>
  Object.fromEntries(doc.exportedEnvironmentVariables.map((v) => [v.name, v.value]));

describe("the local CodeBuild's own buildspecs", () => {
  it("builds the image of a repository without a buildspec, and puts each environment's manifests where the deploy reads them", async () => {
    // Act
    const { doc, log } = await build(plain, 'stepline-build', {
      STEPLINE_STEP: 'build',
      STEPLINE_MANIFESTS: 'deploy/staging\n./k8s/production.yaml',
    });

    // Assess
    expect(doc.buildStatus, log).toBe('SUCCEEDED');
    const sourceDigest = execFileSync('bash', ['-c', 'git archive --format=tar HEAD | sha256sum | cut -d" " -f1'], {
      cwd: repo.dir,
      encoding: 'utf8',
    }).trim();
    const { IMAGE_DIGEST, MANIFESTS_LOCATION } = exported(doc);
    expect(IMAGE_DIGEST).toBe(`sha256:${sourceDigest}`);
    expect(log).toContain('note: buildah is not installed, so no image is built');
    expect(MANIFESTS_LOCATION).toMatch(/^file:\/\/\/.+\/manifests$/);
    const source = new FileManifestSource();
    expect(await source.read(MANIFESTS_LOCATION as string, 'deploy/staging')).toEqual([
      { path: 'app.yaml', content: 'kind: Deployment\n' },
      { path: 'extra/service.yml', content: 'kind: Service\n' },
    ]);
    expect(await source.read(MANIFESTS_LOCATION as string, 'k8s/production.yaml')).toEqual([
      { path: 'production.yaml', content: 'kind: Deployment\n' },
    ]);
  });

  it.skipIf(!HAS_BUILDAH)(
    'builds a real OCI image with buildah where it is installed',
    async () => {
      // Act
      const { doc, log } = await build(tooled, 'stepline-build', { STEPLINE_STEP: 'build', STEPLINE_MANIFESTS: '' });

      // Assess
      expect(doc.buildStatus, log).toBe('SUCCEEDED');
      expect(exported(doc).IMAGE_DIGEST).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(log).toContain('stepline-build-image: building 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api');
      expect(log).toMatch(/stepline-build-image: \S+ is sha256:[0-9a-f]{64} \(.+\.tar\)/);
    },
    120_000,
  );

  it("fails a repository's build whose environment reads manifests the commit does not have, naming the path", async () => {
    // Act
    const { doc, log } = await build(plain, 'stepline-build', {
      STEPLINE_STEP: 'build',
      STEPLINE_MANIFESTS: 'deploy/qa',
    });

    // Assess
    expect(doc.buildStatus).toBe('FAILED');
    expect(log).toContain('an environment reads its manifests at deploy/qa, which is not in the repository');
  });

  it("builds a fork's image without exporting anything", async () => {
    // Act
    const { doc, log } = await build(plain, 'stepline-build-untrusted', { STEPLINE_STEP: 'build' });

    // Assess
    expect(doc.buildStatus, log).toBe('SUCCEEDED');
    expect(doc.exportedEnvironmentVariables).toEqual([]);
    expect(existsSync(join(state, 'plain', 'artifacts', 'stepline-build-untrusted', '1', 'manifests'))).toBe(false);
  });

  it('fails a test suite that names no buildspec, saying each suite must', async () => {
    // Act
    const { doc, log } = await build(plain, 'stepline-test', { STEPLINE_STEP: 'test' });

    // Assess
    expect(doc.buildStatus).toBe('FAILED');
    expect(log).toContain("Stepline passes each test suite's buildspec as BuildspecOverride; none was given");
  });

  it('fails a build whose source is not the commit the run builds', async () => {
    // Act
    const { doc, log } = await build(plain, 'stepline-build', {
      STEPLINE_STEP: 'build',
      STEPLINE_COMMIT: 'f'.repeat(40),
    });

    // Assess
    expect(doc.buildStatus).toBe('FAILED');
    expect(log).toContain(`not at the commit ${'f'.repeat(40)} this run builds`);
  });
});
