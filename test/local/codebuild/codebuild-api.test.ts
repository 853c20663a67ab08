import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import {
  BatchGetBuildsCommand,
  type Build,
  CodeBuildClient,
  StartBuildCommand,
  StopBuildCommand,
} from '@aws-sdk/client-codebuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import { gitRepository, removeDir, startTestRuntime, waitFor } from '../runtime/support';

/**
 * The local CodeBuild, held against the real AWS SDK v3 client: builds of a real git repository at a commit,
 * buildspec 0.2 phases, variables, exported variables, failures, `on-failure`, `finally`, timeouts, StopBuild,
 * reports, and the messages a build gets where Docker is missing and buildah is there.
 */

let runtime: Runtime;
let codebuild: CodeBuildClient;
let repo: ReturnType<typeof gitRepository>;

/** Debian's buildah builds the image; where it is absent, that one test says so and is skipped. */
const HAS_BUILDAH = (() => {
  try {
    execFileSync('buildah', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const BUILDAH_SKIP_REASON =
  'skipped: buildah is absent (apt-get install -y --no-install-recommends buildah; .ci/run installs it)';

/** `buildMinuteMs`: a "minute" of build timeout lasts this long here. */
const MINUTE_MS = 1500;

beforeAll(async () => {
  runtime = await startTestRuntime({ buildMinuteMs: MINUTE_MS });
  codebuild = new CodeBuildClient({
    endpoint: runtime.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  repo = gitRepository({ 'README.md': '# sample\n', 'sub/file.txt': 'in sub\n' });
});

afterAll(async () => {
  codebuild.destroy();
  await runtime.stop();
  removeDir(runtime.stateDir);
  removeDir(repo.dir);
});

async function build(buildspec: string, extra: Record<string, unknown> = {}): Promise<Build> {
  const started = await codebuild.send(
    new StartBuildCommand({
      projectName: 'stepline-test',
      sourceLocationOverride: repo.dir,
      sourceVersion: repo.sha,
      buildspecOverride: buildspec,
      ...extra,
    }),
  );
  const id = started.build?.id as string;
  return waitFor(`build ${id}`, async () => {
    const out = await codebuild.send(new BatchGetBuildsCommand({ ids: [id] }));
    const b = out.builds?.[0];
    return b?.buildComplete ? b : undefined;
  });
}

async function log(b: Build): Promise<string> {
  const response = await fetch(`${runtime.url}/api/builds/${encodeURIComponent(b.id as string)}/log`);
  return response.text();
}

function phase(b: Build, type: string) {
  return b.phases?.find((p) => p.phaseType === type);
}

describe('a successful build', () => {
  it('runs every phase at the commit, carries variables across commands and exports the ones asked for', async () => {
    // Act
    const b = await build(
      [
        'version: 0.2',
        'env:',
        '  variables:',
        '    GREETING: hello',
        '  exported-variables: [IMAGE_DIGEST, GREETING, NEVER_SET]',
        'phases:',
        '  install:',
        '    commands:',
        '      - SECRET_SAUCE=42',
        '      - cd sub',
        '  build:',
        '    commands:',
        '      - echo "sauce=$SECRET_SAUCE dir=$(basename "$(pwd)") file=$(cat file.txt)"',
        '      - echo "id=$CODEBUILD_BUILD_ID number=$CODEBUILD_BUILD_NUMBER sha=$CODEBUILD_RESOLVED_SOURCE_VERSION src=$CODEBUILD_SRC_DIR"',
        '      - IMAGE_DIGEST=sha256:0123',
        '  post_build:',
        '    commands:',
        '      - echo "succeeding=$CODEBUILD_BUILD_SUCCEEDING"',
      ].join('\n'),
      { environmentVariablesOverride: [{ name: 'GREETING', value: 'overridden', type: 'PLAINTEXT' }] },
    );
    const text = await log(b);
    // Assess
    expect(b.buildStatus).toBe('SUCCEEDED');
    expect(b.resolvedSourceVersion).toBe(repo.sha);
    expect(b.phases?.map((p) => p.phaseType)).toEqual([
      'SUBMITTED',
      'QUEUED',
      'PROVISIONING',
      'DOWNLOAD_SOURCE',
      'INSTALL',
      'PRE_BUILD',
      'BUILD',
      'POST_BUILD',
      'UPLOAD_ARTIFACTS',
      'FINALIZING',
      'COMPLETED',
    ]);
    expect(b.exportedEnvironmentVariables).toEqual([
      { name: 'IMAGE_DIGEST', value: 'sha256:0123' },
      { name: 'GREETING', value: 'overridden' },
    ]);
    expect(text).toContain('sauce=42 dir=sub file=in sub');
    expect(text).toContain(`id=${b.id} number=${b.buildNumber} sha=${repo.sha}`);
    expect(text).toContain('succeeding=1');
    expect(text).toMatch(/\[Container\] .* Running command echo "succeeding=\$CODEBUILD_BUILD_SUCCEEDING"/);
    expect(b.startTime).toBeInstanceOf(Date);
    expect(b.logs?.deepLink).toBe(`${runtime.url}/api/builds/${encodeURIComponent(b.id as string)}/log`);
  });

  it('exports the values the last command left, and those of the environment when no command ran', async () => {
    // Act
    const ran = await build(
      'version: 0.2\nenv:\n  variables: { TAG: first }\n  exported-variables: [TAG]\nphases:\n  build:\n    commands:\n      - TAG=second\n  post_build:\n    commands:\n      - TAG="$TAG-third"\n',
    );
    const none = await build(
      'version: 0.2\nenv:\n  variables: { TAG: first }\n  exported-variables: [TAG]\nphases:\n  build:\n',
    );

    // Assess
    expect(ran.exportedEnvironmentVariables).toEqual([{ name: 'TAG', value: 'second-third' }]);
    expect(none.buildStatus).toBe('SUCCEEDED');
    expect(none.exportedEnvironmentVariables).toEqual([{ name: 'TAG', value: 'first' }]);
  });

  it('reads the buildspec from a path in the source, and collects JUnit reports', async () => {
    // Prepare
    const sha = repo.commit({
      'ci/unit.yml': [
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands:',
        '      - mkdir -p out',
        `      - printf '%s' '<testsuites><testsuite name="s"><testcase name="a" classname="k" time="0.5"/><testcase name="b" classname="k"><failure message="expected 2">trace</failure></testcase><testcase name="c"><skipped/></testcase></testsuite></testsuites>' > out/junit.xml`,
        'reports:',
        '  unit:',
        "    files: ['out/*.xml']",
      ].join('\n'),
    });
    // Act
    const b = await build('ci/unit.yml', { sourceVersion: sha });
    const response = await fetch(`${runtime.url}/api/builds/${encodeURIComponent(b.id as string)}`);
    const { reports } = (await response.json()) as {
      reports: { group: string; total: number; statusCounts: Record<string, number> }[];
    };
    // Assess
    expect(b.buildStatus).toBe('SUCCEEDED');
    expect(b.reportArns).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      group: 'unit',
      total: 3,
      statusCounts: { SUCCEEDED: 1, FAILED: 1, SKIPPED: 1, ERROR: 0 },
    });
  });
});

describe('builds of pull requests from forks', () => {
  it("run in the untrusted project with a HOME of their own, not the user's where credentials live", async () => {
    // Prepare
    const buildspec = [
      'version: 0.2',
      'env:',
      '  exported-variables: [SEEN_HOME]',
      'phases:',
      '  build:',
      '    commands:',
      '      - SEEN_HOME="$HOME"',
      '      - test -d "$HOME" && test -w "$HOME"',
    ].join('\n');

    // Act
    const untrusted = await build(buildspec, { projectName: 'stepline-test-untrusted' });
    const trusted = await build(buildspec);

    // Assess
    const seen = (b: Build) => b.exportedEnvironmentVariables?.find((v) => v.name === 'SEEN_HOME')?.value;
    expect(untrusted.buildStatus).toBe('SUCCEEDED');
    expect(seen(untrusted)).not.toBe(process.env['HOME']);
    expect(seen(untrusted)).toMatch(/[\\/]home$/);
    expect(seen(untrusted)?.startsWith(runtime.stateDir)).toBe(true);
    expect(seen(trusted)).toBe(process.env['HOME']);
  });
});

describe('the source', () => {
  it("checks a branch out by name at its commit, in a clone that borrows the repository's objects", async () => {
    // Prepare
    const other = gitRepository({ 'version.txt': 'one\n' });
    execFileSync('git', ['branch', 'feature'], { cwd: other.dir });
    other.commit({ 'version.txt': 'two\n' });
    try {
      // Act
      const b = await build(
        'version: 0.2\nphases:\n  build:\n    commands:\n      - echo "version=$(cat version.txt)"\n      - cat .git/objects/info/alternates\n',
        { sourceLocationOverride: other.dir, sourceVersion: 'feature' },
      );
      const text = await log(b);

      // Assess
      expect(b.buildStatus).toBe('SUCCEEDED');
      expect(b.resolvedSourceVersion).toBe(other.sha);
      expect(text).toContain('version=one');
      expect(text).toContain(`${other.dir}/.git/objects`);
      expect(text).toContain(`Source is ${other.dir} at ${other.sha} (feature)`);
    } finally {
      removeDir(other.dir);
    }
  });

  it.each([
    [
      'a source it cannot clone',
      { sourceLocationOverride: '/nonexistent/stepline-repo' },
      'could not clone /nonexistent/stepline-repo: ',
    ],
    [
      'a version the repository does not have',
      { sourceVersion: 'f'.repeat(40) },
      `could not check out ${'f'.repeat(40)} from `,
    ],
  ])('fails DOWNLOAD_SOURCE with CLIENT_ERROR for %s, saying why', async (_case, extra, expected) => {
    // Act
    const b = await build('version: 0.2\nphases:\n  build:\n    commands:\n      - echo never\n', extra);

    // Assess
    expect(b.buildStatus).toBe('FAILED');
    const context = phase(b, 'DOWNLOAD_SOURCE')?.contexts?.[0];
    expect(context?.statusCode).toBe('CLIENT_ERROR');
    expect(context?.message).toContain(expected);
    expect(context?.message?.length ?? 0).toBeGreaterThan(expected.length + 5);
    expect(phase(b, 'BUILD')).toBeUndefined();
  });
});

describe('a failing build', () => {
  it('fails the phase of the failing command, still runs finally and POST_BUILD, and names the exit status', async () => {
    // Act
    const b = await build(
      [
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands:',
        '      - echo before',
        '      - exit 3',
        '      - echo never',
        '    finally:',
        '      - echo "finally ran"',
        '  post_build:',
        '    commands:',
        '      - echo "post_build succeeding=$CODEBUILD_BUILD_SUCCEEDING"',
      ].join('\n'),
    );
    const text = await log(b);
    // Assess
    expect(b.buildStatus).toBe('FAILED');
    expect(phase(b, 'BUILD')?.phaseStatus).toBe('FAILED');
    expect(phase(b, 'BUILD')?.contexts?.[0]).toEqual({
      statusCode: 'COMMAND_EXECUTION_ERROR',
      message: 'Error while executing command: exit 3. Reason: exit status 3',
    });
    expect(phase(b, 'POST_BUILD')?.phaseStatus).toBe('SUCCEEDED');
    expect(text).toContain('finally ran');
    expect(text).toContain('post_build succeeding=0');
    expect(text).not.toContain('never');
  });

  it.each([
    ['an INSTALL failure skips every later phase', 'install', undefined, ['BUILD', 'POST_BUILD', 'UPLOAD_ARTIFACTS']],
    ['on-failure: CONTINUE goes on to the next phase', 'install', 'CONTINUE', []],
    ['on-failure: ABORT in BUILD skips POST_BUILD', 'build', 'ABORT', ['POST_BUILD', 'UPLOAD_ARTIFACTS']],
  ])('%s', async (_case, failing, onFailure, skipped) => {
    // Prepare
    const lines = ['version: 0.2', 'phases:'];
    for (const p of ['install', 'build', 'post_build']) {
      lines.push(`  ${p}:`);
      if (p === failing && onFailure) lines.push(`    on-failure: ${onFailure}`);
      lines.push('    commands:', p === failing ? '      - "false"' : `      - echo ran ${p}`);
    }
    // Act
    const b = await build(lines.join('\n'));
    // Assess
    expect(b.buildStatus).toBe('FAILED');
    for (const type of skipped as string[]) expect(phase(b, type), type).toBeUndefined();
    expect(phase(b, 'FINALIZING')?.phaseStatus).toBe('SUCCEEDED');
    if (skipped.length === 0) expect(phase(b, 'BUILD')?.phaseStatus).toBe('SUCCEEDED');
  });

  it('fails a buildspec that is not YAML in DOWNLOAD_SOURCE, saying so', async () => {
    // Act
    const b = await build('version: 0.2\nphases: [not, a, mapping');
    // Assess
    expect(b.buildStatus).toBe('FAILED');
    expect(phase(b, 'DOWNLOAD_SOURCE')?.contexts?.[0]?.statusCode).toBe('YAML_FILE_ERROR');
  });

  it('fails a docker command with a message that says no Docker engine runs here', async () => {
    // Act
    const b = await build('version: 0.2\nphases:\n  build:\n    commands:\n      - docker build -t app .\n');
    // Assess
    expect(b.buildStatus).toBe('FAILED');
    expect(phase(b, 'BUILD')?.contexts?.[0]?.message).toContain('needs a Docker engine, and none runs on this machine');
    expect(await log(b)).toContain('stepline-build-image');
  });
});

describe('stopping builds', () => {
  it('times a build out: the running command is killed and the build ends TIMED_OUT', async () => {
    // Act
    const b = await build('version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 30\n', {
      timeoutInMinutesOverride: 1,
    });
    // Assess
    expect(b.buildStatus).toBe('TIMED_OUT');
    expect(phase(b, 'BUILD')).toMatchObject({
      phaseStatus: 'TIMED_OUT',
      contexts: [{ statusCode: 'BUILD_TIMED_OUT' }],
    });
    expect((b.endTime as Date).getTime() - (b.startTime as Date).getTime()).toBeLessThan(10_000);
  });

  it('StopBuild kills the whole process group of the running command', async () => {
    // Prepare
    const started = await codebuild.send(
      new StartBuildCommand({
        projectName: 'stepline-test',
        sourceLocationOverride: repo.dir,
        buildspecOverride:
          'version: 0.2\nphases:\n  build:\n    commands:\n      - |\n        sleep 60 &\n        echo $! > "$STEPLINE_BUILD_STATE_DIR/child.pid"\n        wait\n',
      }),
    );
    const id = started.build?.id as string;
    const pidFile = await waitFor('the background child', () => findPidFile(id));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // Act
    const stopped = await codebuild.send(new StopBuildCommand({ id }));
    // Assess
    expect(stopped.build?.buildStatus).toBe('STOPPED');
    expect(stopped.build?.phases?.find((p) => p.phaseType === 'BUILD')?.phaseStatus).toBe('STOPPED');
    await waitFor('the background child to die', () => (alive(pid) ? undefined : true), 5000);
  });
});

describe('the API', () => {
  it('answers an unknown project with ResourceNotFoundException and lists unknown ids as not found', async () => {
    // Act
    let name = '';
    try {
      await codebuild.send(new StartBuildCommand({ projectName: 'nope' }));
    } catch (error) {
      name = (error as Error).name;
    }
    const out = await codebuild.send(
      new BatchGetBuildsCommand({ ids: ['stepline-test:00000000-0000-0000-0000-000000000000'] }),
    );
    // Assess
    expect(name).toBe('ResourceNotFoundException');
    expect(out.builds).toEqual([]);
    expect(out.buildsNotFound).toEqual(['stepline-test:00000000-0000-0000-0000-000000000000']);
  });

  it.skipIf(!HAS_BUILDAH)(
    `builds a real OCI image with buildah through stepline-build-image and exports its digest${HAS_BUILDAH ? '' : ` (${BUILDAH_SKIP_REASON})`}`,
    async () => {
      // Prepare
      const sha = repo.commit({
        'image/Containerfile': 'FROM scratch\nCOPY hello.txt /hello.txt\n',
        'image/hello.txt': 'hi\n',
      });
      // Act
      const b = await build(
        [
          'version: 0.2',
          'env:',
          '  exported-variables: [IMAGE_DIGEST]',
          'phases:',
          '  build:',
          '    commands:',
          '      - IMAGE_DIGEST="$(stepline-build-image localhost/sample:$CODEBUILD_RESOLVED_SOURCE_VERSION image)"',
        ].join('\n'),
        { sourceVersion: sha },
      );
      // Assess
      expect(b.buildStatus, await log(b)).toBe('SUCCEEDED');
      const digest = b.exportedEnvironmentVariables?.find((v) => v.name === 'IMAGE_DIGEST')?.value ?? '';
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(existsSync(`${runtime.stateDir}/artifacts/images/localhost_sample_${sha}.tar`)).toBe(true);
    },
  );
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function findPidFile(buildId: string): string | undefined {
  const doc = runtime.codebuild.get(buildId);
  if (!doc) return undefined;
  const dir = `${runtime.stateDir}/builds/stepline-test`;
  const prefix = `${doc.buildNumber}-`;
  const entry = readdirSync(dir).find((e) => e.startsWith(prefix));
  const file = entry ? `${dir}/${entry}/state/child.pid` : '';
  return entry && existsSync(file) && readFileSync(file, 'utf8').trim() ? file : undefined;
}
