import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BatchGetBuildsCommand, type Build, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeBuildService, Sandbox } from '../../../local/services/codebuild';
import { BuildStore, openStateDb } from '../../../local/store';
import { type ChildRuntime, startChildRuntime } from '../runtime/child-support';
import { gitRepository, removeDir, tempDir, waitFor } from '../runtime/support';

/**
 * Builds of pull requests from forks run in a bubblewrap sandbox (ADR 0088), held against a runtime in a process of
 * its own whose environment holds a webhook secret, as `WEBHOOK_SECRET=… npm start` would: the build tries to read
 * the runtime's environment through /proc, the runtime's state folder (keys, secrets, database), its processes and
 * its API. Where no sandbox can be made, such a build is refused, never run without one.
 */

const CANARY = 'canary-webhook-secret-4f1d2c';
const HAS_BWRAP = existsSync('/usr/bin/bwrap');
const SKIP =
  'skipped: bubblewrap is absent (apt-get install -y --no-install-recommends bubblewrap; .ci/run installs it)';

/** Reads what a build can reach, into exported variables (one command: each command is a process of its own). */
const PROBE = [
  'version: 0.2',
  'env:',
  '  exported-variables: [PARENT_ENV, ALL_ENV, SELF_ENV, STATE_LIST, KEYS, PROCS, API]',
  'phases:',
  '  build:',
  '    commands:',
  '      - |',
  `        PARENT_ENV="$(tr '\\0' ' ' < /proc/$PPID/environ 2>&1)"`,
  `        ALL_ENV="$(cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' ' ')"`,
  `        SELF_ENV="$(env | tr '\\n' ' ')"`,
  `        STATE_LIST="$(ls -A "$STATE_DIR" 2>&1 | tr '\\n' ' ')"`,
  '        KEYS="$(cat "$STEPLINE_BUILD_STATE_DIR/../../../../approval-keys" "$STATE_DIR/webhook-secret" 2>&1)"',
  `        PROCS="$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ')"`,
  '        API="$( (exec 3<>"/dev/tcp/127.0.0.1/$RUNTIME_PORT" && echo reached) 2>&1 )"',
  '        true',
].join('\n');

describe.skipIf(!HAS_BWRAP)(`builds of pull requests from forks${HAS_BWRAP ? '' : ` (${SKIP})`}`, () => {
  let runtime: ChildRuntime;
  let codebuild: CodeBuildClient;
  let repo: ReturnType<typeof gitRepository>;
  /** The two builds, started together in beforeAll (each takes seconds). */
  let untrusted: Promise<Record<string, string>>;
  let trusted: Promise<Record<string, string>>;

  beforeAll(async () => {
    repo = gitRepository({ 'README.md': '# fork\n' });
    runtime = await startChildRuntime(
      {
        port: 0,
        stateDir: tempDir('sandbox-state'),
        logLevel: 'SILENT',
        replayEveryMs: 0,
        kubernetes: 'simulated',
        simulatedCluster: { tickMs: 50 },
      },
      { env: { WEBHOOK_SECRET: CANARY } },
    );
    codebuild = new CodeBuildClient({
      endpoint: runtime.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    untrusted = probe('stepline-test-untrusted');
    trusted = probe('stepline-test');
    untrusted.catch(() => {});
    trusted.catch(() => {});
  }, 60_000);

  afterAll(async () => {
    codebuild?.destroy();
    await runtime?.stop();
    if (runtime) removeDir(runtime.stateDir);
    if (repo) removeDir(repo.dir);
  });

  async function probe(projectName: string): Promise<Record<string, string>> {
    const started = await codebuild.send(
      new StartBuildCommand({
        projectName,
        sourceLocationOverride: repo.dir,
        sourceVersion: repo.sha,
        buildspecOverride: PROBE,
        environmentVariablesOverride: [
          { name: 'STATE_DIR', value: runtime.stateDir, type: 'PLAINTEXT' },
          { name: 'RUNTIME_PORT', value: String(runtime.port), type: 'PLAINTEXT' },
        ],
      }),
    );
    const build = await waitFor<Build>(`build ${started.build?.id}`, async () => {
      const out = await codebuild.send(new BatchGetBuildsCommand({ ids: [started.build?.id as string] }));
      return out.builds?.[0]?.buildComplete ? out.builds[0] : undefined;
    });
    const log = await fetch(`${runtime.url}/api/builds/${encodeURIComponent(build.id as string)}/log`).then((r) =>
      r.text(),
    );
    expect(build.buildStatus, log).toBe('SUCCEEDED');
    return Object.fromEntries((build.exportedEnvironmentVariables ?? []).map((v) => [v.name, v.value ?? '']));
  }

  it("reads neither the runtime's environment, its state folder, its processes nor its API", async () => {
    // Act
    const seen = await untrusted;

    // Assess
    expect(seen['PARENT_ENV']).not.toContain(CANARY);
    expect(seen['ALL_ENV']).not.toContain(CANARY);
    expect(seen['SELF_ENV']).not.toContain(CANARY);
    expect(seen['SELF_ENV']).not.toContain('CODEBUILD_BUILD_URL');
    expect(seen['SELF_ENV']).not.toContain(runtime.url);
    for (const file of ['stepline.db', 'approval-keys', 'webhook-secret', 'kubeconfig'])
      expect(seen['STATE_LIST']).not.toContain(file);
    expect(seen['KEYS']).toContain('No such file');
    expect(seen['PROCS']).not.toContain('child-runtime');
    expect(seen['API']).not.toBe('reached');
  }, 60_000);

  it("gives a trusted build its own environment, and a parent process that holds none of the runtime's", async () => {
    // Act
    const seen = await trusted;

    // Assess
    expect(seen['PARENT_ENV']).toContain('CODEBUILD_BUILD_ID=');
    expect(seen['PARENT_ENV']).not.toContain(CANARY);
    expect(seen['SELF_ENV']).not.toContain(CANARY);
  }, 60_000);
});

describe('where no sandbox can be made', () => {
  it('refuses a build of an untrusted project, saying why, and runs none of its commands', async () => {
    // Prepare
    const state = tempDir('no-sandbox');
    const db = openStateDb(join(state, 'state.db'));
    const repo = gitRepository({ 'README.md': '# fork\n' });
    const service = new CodeBuildService({
      store: new BuildStore(db),
      workRoot: join(state, 'builds'),
      artifactsRoot: join(state, 'artifacts'),
      path: process.env['PATH'] ?? '',
      logUrl: (id) => `http://127.0.0.1/builds/${id}`,
      sandbox: { command: join(state, 'no-bwrap-here') },
    });
    service.registerProject({ name: 'fork', untrusted: true });
    const marker = join(state, 'ran');

    // Act
    const started = service.startBuild({
      projectName: 'fork',
      sourceLocationOverride: repo.dir,
      buildspecOverride: `version: 0.2\nphases:\n  build:\n    commands:\n      - touch ${marker}\n`,
    });
    const done = await service.wait(started.id);

    // Assess
    const provisioning = done.phases.find((p) => p.phaseType === 'PROVISIONING');
    expect(done.buildStatus).toBe('FAILED');
    expect(provisioning?.phaseStatus).toBe('FAILED');
    expect(provisioning?.contexts?.[0]?.message).toContain('bubblewrap');
    expect(provisioning?.contexts?.[0]?.message).toContain('only in a sandbox');
    expect(existsSync(marker)).toBe(false);
    db.close();
    removeDir(state);
    removeDir(repo.dir);
  });

  it('says so when bwrap is there but cannot make namespaces', async () => {
    // Prepare: a "bwrap" that fails as bwrap does where user namespaces are turned off.
    const state = tempDir('no-userns');
    const fake = join(state, 'bwrap');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(fake, '#!/bin/sh\necho "bwrap: No permissions to creating new namespace" >&2\nexit 1\n', {
      mode: 0o755,
    });

    // Act
    const availability = await new Sandbox({ command: fake }).available();

    // Assess
    expect(availability.ok).toBe(false);
    expect(availability.ok ? '' : availability.reason).toContain('No permissions to creating new namespace');
    expect(availability.ok ? '' : availability.reason).toContain('user namespaces');
    removeDir(state);
  });
});
