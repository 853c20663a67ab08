import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchGetBuildsCommand, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { CreateStateMachineCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Runtime } from '../../local/runtime';
import { gitRepository, removeDir, startTestRuntime, waitFor } from '../local/runtime/support';
import { ACCOUNT_PREFIX, codeBuildClient, ROLE, sfnClient } from './aws-support';

/**
 * The local Step Functions and CodeBuild APIs held against the AWS CLI: Debian's awscli 2.x (`/usr/bin/aws`,
 * 2.9 here) for every command it has, and the awscli 1.x that the Python environment puts first on the PATH for
 * the operations 2.9 does not know (TestState, ValidateStateMachineDefinition, versions). What the CLI prints is
 * parsed as JSON and checked; an error is the CLI's exit status and its "An error occurred (Code)" line.
 *
 * StartSyncExecution and TestState: the CLI sends them to `sync-<host>`. awscli 1.x (and 2.x from the releases
 * that read it) turns that off with AWS_DISABLE_HOST_PREFIX_INJECTION=true; awscli 2.9 has no such setting, so it
 * is given a `sync-localhost` that reaches the runtime, as a `127.0.0.1 sync-localhost` line in /etc/hosts would
 * (here through HTTP_PROXY, which makes the CLI send the request to the runtime whatever the name resolves to).
 */

const V2 = '/usr/bin/aws';
const V1 = (() => {
  try {
    const path = execFileSync('bash', ['-c', 'command -v aws'], { encoding: 'utf8' }).trim();
    const version = execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return version.startsWith('aws-cli/1.') ? path : undefined;
  } catch {
    return undefined;
  }
})();
const HAS_V2 = existsSync(V2);

let runtime: Runtime;

interface Run {
  readonly code: number;
  readonly json: Record<string, unknown>;
  readonly stderr: string;
}

/** Runs the CLI against the runtime; `env` adds to a clean environment with test credentials. */
function cli(binary: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      binary,
      [...args],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '/tmp',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_PAGER: '',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_EC2_METADATA_DISABLED: 'true',
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        let json: Record<string, unknown> = {};
        try {
          json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
        } catch {
          json = { raw: stdout };
        }
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, json, stderr });
      },
    );
  });
}

function v2(...args: string[]): Promise<Run> {
  return cli(V2, ['--endpoint-url', runtime.url, '--output', 'json', ...args]);
}

function v1(...args: string[]): Promise<Run> {
  return cli(V1 as string, ['--endpoint-url', runtime.url, '--output', 'json', ...args], {
    AWS_DISABLE_HOST_PREFIX_INJECTION: 'true',
  });
}

const PASS = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });

/** A call of the CLI costs about a second of CPU (Python starting): the tests make few, in parallel where they can. */
vi.setConfig({ testTimeout: 120_000 });

beforeAll(async () => {
  runtime = await startTestRuntime();
});

afterAll(async () => {
  await runtime.stop();
  removeDir(runtime.stateDir);
});

/** Where a CLI is missing, its tests are skipped and their title says why. */
const V2_ABSENT = HAS_V2 ? '' : ' (skipped: /usr/bin/aws is absent; apt-get install -y awscli)';
const V1_ABSENT = V1 ? '' : ' (skipped: no awscli 1.x is first on the PATH as aws)';

describe.skipIf(!HAS_V2)(`awscli 2.x: Step Functions${V2_ABSENT}`, () => {
  it('lists the pipeline executions with the command the runtime prints, in a shell, with either CLI as aws', async () => {
    // Prepare: `stepline start` prints this (local/bin/hints.ts, local/cli.ts); `aws` is whichever the PATH finds.
    const printed = `AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws --endpoint-url ${runtime.url} stepfunctions list-executions --state-machine-arn ${runtime.stateMachineArn}`;
    const bin = mkdtempSync(join(tmpdir(), 'stepline-aws-v2-'));
    symlinkSync(V2, join(bin, 'aws'));
    const bare = { AWS_DEFAULT_REGION: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };
    // Act
    const [withV2, withPath] = await Promise.all([
      cli('bash', ['-c', printed], { ...bare, PATH: `${bin}:${process.env['PATH'] ?? ''}` }),
      cli('bash', ['-c', printed], bare),
    ]);
    rmSync(bin, { recursive: true, force: true });
    // Assess
    expect(withV2).toMatchObject({ code: 0, json: { executions: [] } });
    expect(withPath).toMatchObject({ code: 0, json: { executions: [] } });
  });

  it('creates a machine with tags and logging, updates, describes, retags and deletes it', async () => {
    // Prepare
    const logging = JSON.stringify({
      level: 'ERROR',
      includeExecutionData: false,
      destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: 'arn:aws:logs:us-east-1:000000000000:log-group:l:*' } }],
    });
    const next = JSON.stringify({ StartAt: 'S', States: { S: { Type: 'Succeed' } } });
    const arn = `${ACCOUNT_PREFIX}:stateMachine:cli-machine`;
    // Act
    const created = await v2(
      ...['stepfunctions', 'create-state-machine', '--name', 'cli-machine', '--role-arn', ROLE],
      ...['--definition', PASS, '--tags', 'key=team,value=ci', '--logging-configuration', logging],
    );
    const [updated, tagged] = await Promise.all([
      v2('stepfunctions', 'update-state-machine', '--state-machine-arn', arn, '--definition', next),
      v2('stepfunctions', 'tag-resource', '--resource-arn', arn, '--tags', 'key=stage,value=dev'),
    ]);
    const [described, tags] = await Promise.all([
      v2('stepfunctions', 'describe-state-machine', '--state-machine-arn', arn),
      v2('stepfunctions', 'list-tags-for-resource', '--resource-arn', arn),
    ]);
    const deleted = await v2('stepfunctions', 'delete-state-machine', '--state-machine-arn', arn);
    // Assess
    expect(created).toMatchObject({ code: 0, json: { stateMachineArn: arn } });
    expect(updated.code).toBe(0);
    expect(typeof updated.json['updateDate']).toBe('string');
    expect(tagged.code).toBe(0);
    expect(described.json).toMatchObject({ definition: next, loggingConfiguration: JSON.parse(logging) });
    expect(tags.json['tags']).toEqual([
      { key: 'stage', value: 'dev' },
      { key: 'team', value: 'ci' },
    ]);
    expect(deleted.code).toBe(0);
    expect(() => runtime.states.describeStateMachine(arn)).toThrow(/State Machine Does Not Exist/);
  });

  it('shows the InvalidLoggingConfiguration of logging level ALL with no destination', async () => {
    // Act
    const out = await v2(
      ...['stepfunctions', 'create-state-machine', '--name', 'cli-loud', '--role-arn', ROLE, '--definition', PASS],
      ...['--logging-configuration', 'level=ALL'],
    );
    // Assess
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('(InvalidLoggingConfiguration)');
  });

  it('runs start-sync-execution at sync-localhost, and refuses it for a STANDARD machine', async () => {
    // Prepare
    const sfn = sfnClient(runtime.url);
    const express = await sfn.send(
      new CreateStateMachineCommand({ name: 'cli-express', type: 'EXPRESS', roleArn: ROLE, definition: PASS }),
    );
    sfn.destroy();
    const port = new URL(runtime.url).port;
    const viaSyncHost = { HTTP_PROXY: runtime.url, http_proxy: runtime.url, NO_PROXY: '', no_proxy: '' };
    const at = [
      '--endpoint-url',
      `http://localhost:${port}`,
      '--output',
      'json',
      'stepfunctions',
      'start-sync-execution',
    ];
    // Act
    const ran = await cli(
      V2,
      [...at, '--state-machine-arn', express.stateMachineArn as string, '--input', '{"a":1}'],
      viaSyncHost,
    );
    const standard = await cli(V2, [...at, '--state-machine-arn', runtime.stateMachineArn], viaSyncHost);
    // Assess
    expect(ran).toMatchObject({ code: 0, json: { status: 'SUCCEEDED', output: '{"a":1}' } });
    expect(standard.stderr).toContain('(StateMachineTypeNotSupported)');
  });

  it('lists and describes map runs', async () => {
    // Prepare
    const sfn = sfnClient(runtime.url);
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: 'cli-fan-out',
        roleArn: ROLE,
        definition: JSON.stringify({
          StartAt: 'Fan',
          States: {
            Fan: {
              Type: 'Map',
              ItemProcessor: {
                ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
                StartAt: 'Each',
                States: { Each: { Type: 'Pass', End: true } },
              },
              End: true,
            },
          },
        }),
      }),
    );
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, input: '[1,2]' }),
    );
    sfn.destroy();
    // Act
    const listed = await waitFor('a map run', async () => {
      const out = await v2('stepfunctions', 'list-map-runs', '--execution-arn', executionArn as string);
      return (out.json['mapRuns'] as unknown[] | undefined)?.length ? out : undefined;
    });
    const mapRunArn = (listed.json['mapRuns'] as { mapRunArn: string }[])[0]?.mapRunArn as string;
    const described = await v2('stepfunctions', 'describe-map-run', '--map-run-arn', mapRunArn);
    // Assess
    expect(described.json).toMatchObject({ mapRunArn, executionArn, itemCounts: { total: 2 } });
  });
});

describe.skipIf(!V1)(`awscli 1.x: the operations awscli 2.9 does not have${V1_ABSENT}`, () => {
  it('validates a definition, publishes and lists versions, and tests a state with host prefixes off', async () => {
    // Prepare
    const arn = `${ACCOUNT_PREFIX}:stateMachine:cli-v1`;
    const sfn = sfnClient(runtime.url);
    await sfn.send(new CreateStateMachineCommand({ name: 'cli-v1', roleArn: ROLE, definition: PASS }));
    sfn.destroy();
    // Act
    const [valid, published, tested] = await Promise.all([
      v1('stepfunctions', 'validate-state-machine-definition', '--definition', '{"StartAt":"X","States":{}}'),
      v1('stepfunctions', 'publish-state-machine-version', '--state-machine-arn', arn, '--description', 'v1'),
      v1(
        ...['stepfunctions', 'test-state', '--definition', '{"Type":"Pass","Result":{"ok":true},"Next":"N"}'],
        ...['--inspection-level', 'DEBUG'],
      ),
    ]);
    const versions = await v1('stepfunctions', 'list-state-machine-versions', '--state-machine-arn', arn);
    // Assess
    expect(valid.json).toMatchObject({ result: 'FAIL', truncated: false });
    expect(published.json['stateMachineVersionArn']).toBe(`${arn}:1`);
    expect(tested.json).toMatchObject({ status: 'SUCCEEDED', nextState: 'N', output: '{"ok":true}' });
    expect(tested.json['inspectionData']).toMatchObject({ result: '{"ok":true}' });
    expect(versions.json['stateMachineVersions']).toEqual([
      { stateMachineVersionArn: `${arn}:1`, creationDate: expect.anything() },
    ]);
  });
});

describe.skipIf(!HAS_V2)(`awscli 2.x: CodeBuild${V2_ABSENT}`, () => {
  it('gets projects, lists builds, and resolves the reports of a test build down to its test cases', async () => {
    // Prepare
    const repo = gitRepository({ 'README.md': '# sample\n' });
    const codebuild = codeBuildClient(runtime.url);
    const buildspec = [
      'version: 0.2',
      'phases:',
      '  build:',
      '    commands:',
      `      - printf '%s' '<testsuite name="s"><testcase name="ok" classname="k"/><testcase name="bad" classname="k"><failure message="no"/></testcase></testsuite>' > r.xml`,
      'reports:',
      '  unit:',
      "    files: ['r.xml']",
    ].join('\n');
    const started = await codebuild.send(
      new StartBuildCommand({
        projectName: 'stepline-test',
        sourceLocationOverride: repo.dir,
        sourceVersion: repo.sha,
        buildspecOverride: buildspec,
      }),
    );
    const id = started.build?.id as string;
    const build = await waitFor('the build', async () => {
      const out = await codebuild.send(new BatchGetBuildsCommand({ ids: [id] }));
      return out.builds?.[0]?.buildComplete ? out.builds[0] : undefined;
    });
    codebuild.destroy();
    removeDir(repo.dir);
    const reportArn = build.reportArns?.[0] as string;
    // Act
    const [projects, builds, ofProject] = await Promise.all([
      v2('codebuild', 'batch-get-projects', '--names', 'stepline-build', 'nope'),
      v2('codebuild', 'list-builds'),
      v2('codebuild', 'list-builds-for-project', '--project-name', 'stepline-test'),
    ]);
    const [reports, listed, cases] = await Promise.all([
      v2('codebuild', 'batch-get-reports', '--report-arns', reportArn),
      v2('codebuild', 'list-reports'),
      v2('codebuild', 'describe-test-cases', '--report-arn', reportArn, '--filter', 'status=FAILED'),
    ]);
    // Assess
    expect(projects.json).toMatchObject({ projects: [{ name: 'stepline-build' }], projectsNotFound: ['nope'] });
    expect(builds.json['ids']).toContain(id);
    expect(ofProject.json['ids']).toEqual([id]);
    expect(reports.json['reports']).toMatchObject([
      { arn: reportArn, status: 'FAILED', testSummary: { total: 2, statusCounts: { SUCCEEDED: 1, FAILED: 1 } } },
    ]);
    expect(listed.json['reports']).toContain(reportArn);
    expect(cases.json['testCases']).toMatchObject([{ name: 'bad', prefix: 'k', status: 'FAILED', message: 'no' }]);
  });
});
