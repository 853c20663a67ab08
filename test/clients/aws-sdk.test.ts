import {
  BatchGetBuildsCommand,
  BatchGetProjectsCommand,
  BatchGetReportsCommand,
  type Build,
  type CodeBuildClient,
  DescribeTestCasesCommand,
  ListBuildsCommand,
  ListBuildsForProjectCommand,
  ListReportsCommand,
  StartBuildCommand,
} from '@aws-sdk/client-codebuild';
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  DescribeStateMachineCommand,
  ListMapRunsCommand,
  ListStateMachineVersionsCommand,
  ListTagsForResourceCommand,
  PublishStateMachineVersionCommand,
  type SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  TagResourceCommand,
  TestStateCommand,
  UntagResourceCommand,
  UpdateStateMachineCommand,
  ValidateStateMachineDefinitionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime';
import { gitRepository, removeDir, startTestRuntime, waitFor } from '../local/runtime/support';
import { ACCOUNT_PREFIX, codeBuildClient, failure, ROLE, sfnClient, sfnClientWithSyncHost } from './aws-support';

/**
 * The local Step Functions and CodeBuild APIs held against the AWS SDK v3 clients, as a user moving between AWS and
 * the local runtime would call them: the state machine lifecycle (tags, logging, versions, update, delete),
 * validation, TestState, map runs, StartSyncExecution at the `sync-` host the SDK uses, and CodeBuild's project,
 * build and test report listings. Shapes and errors as the API references document them.
 */

let runtime: Runtime;
let sfn: SFNClient;
let codebuild: CodeBuildClient;

const PASS = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
const WAIT = JSON.stringify({ StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 3600, End: true } } });
const LOG_GROUP = 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/vendedlogs/states/clients:*';

async function create(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const out = await sfn.send(new CreateStateMachineCommand({ name, roleArn: ROLE, definition: PASS, ...extra }));
  return out.stateMachineArn as string;
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  sfn = sfnClient(runtime.url, { disableHostPrefix: true });
  codebuild = codeBuildClient(runtime.url);
});

afterAll(async () => {
  sfn.destroy();
  codebuild.destroy();
  await runtime.stop();
  removeDir(runtime.stateDir);
});

describe('state machines', () => {
  it('keeps the tags, logging and tracing CreateStateMachine is given, and describes them', async () => {
    // Prepare
    const logging = {
      level: 'ERROR' as const,
      includeExecutionData: true,
      destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: LOG_GROUP } }],
    };
    // Act
    const arn = await create('kept', {
      tags: [{ key: 'team', value: 'ci' }],
      loggingConfiguration: logging,
      tracingConfiguration: { enabled: true },
    });
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    const tags = await sfn.send(new ListTagsForResourceCommand({ resourceArn: arn }));
    // Assess
    expect(described).toMatchObject({ loggingConfiguration: logging, tracingConfiguration: { enabled: true } });
    expect(described.revisionId).toBeUndefined();
    expect(tags.tags).toEqual([{ key: 'team', value: 'ci' }]);
  });

  it('refuses logging level ALL with no destination, as AWS does: InvalidLoggingConfiguration', async () => {
    // Act
    const none = await failure(create('loud', { loggingConfiguration: { level: 'ALL' } }));
    const two = await failure(
      create('loud', {
        loggingConfiguration: {
          level: 'ALL',
          destinations: [1, 2].map(() => ({ cloudWatchLogsLogGroup: { logGroupArn: LOG_GROUP } })),
        },
      }),
    );
    // Assess
    expect(none).toMatchObject({ name: 'InvalidLoggingConfiguration', status: 400 });
    expect(none.message).toContain('Must specify exactly one Log Destination');
    expect(two.name).toBe('InvalidLoggingConfiguration');
  });

  it('publishes version 1 with publish, describes it by its ARN, and refuses a description without publish', async () => {
    // Act
    const out = await sfn.send(
      new CreateStateMachineCommand({
        name: 'published',
        roleArn: ROLE,
        definition: PASS,
        publish: true,
        versionDescription: 'first',
      }),
    );
    const version = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: out.stateMachineVersionArn }));
    const refused = await failure(create('described', { versionDescription: 'no publish' }));
    // Assess
    expect(out.stateMachineVersionArn).toBe(`${ACCOUNT_PREFIX}:stateMachine:published:1`);
    expect(version).toMatchObject({ name: 'published', definition: PASS, description: 'first' });
    expect(refused.name).toBe('ValidationException');
  });

  it('updates a machine to a new revision, publishes versions newest first, and refuses a stale revision', async () => {
    // Prepare
    const arn = await create('updated');
    const next = JSON.stringify({ StartAt: 'S', States: { S: { Type: 'Succeed' } } });
    const first = await sfn.send(
      new PublishStateMachineVersionCommand({ stateMachineArn: arn, revisionId: 'INITIAL' }),
    );
    // Act
    const updated = await sfn.send(
      new UpdateStateMachineCommand({ stateMachineArn: arn, definition: next, publish: true }),
    );
    const again = await sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn }));
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    const versions = await sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn: arn }));
    const stale = await failure(
      sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn, revisionId: 'INITIAL' })),
    );
    const nothing = await failure(sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn })));
    const unknown = await failure(
      sfn.send(
        new UpdateStateMachineCommand({ stateMachineArn: `${ACCOUNT_PREFIX}:stateMachine:nope`, definition: next }),
      ),
    );
    const invalid = await failure(sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition: '{}' })));
    // Assess
    expect(first.stateMachineVersionArn).toBe(`${arn}:1`);
    expect(updated.stateMachineVersionArn).toBe(`${arn}:2`);
    expect(updated.revisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(again.stateMachineVersionArn).toBe(`${arn}:2`);
    expect(described).toMatchObject({ definition: next, revisionId: updated.revisionId });
    expect(versions.stateMachineVersions?.map((v) => v.stateMachineVersionArn)).toEqual([`${arn}:2`, `${arn}:1`]);
    expect(stale.name).toBe('ConflictException');
    expect(nothing.name).toBe('MissingRequiredParameter');
    expect(unknown.name).toBe('StateMachineDoesNotExist');
    expect(invalid.name).toBe('InvalidDefinition');
  });

  it('tags, retags and untags a machine; ResourceNotFound and TooManyTags as the API names them', async () => {
    // Prepare
    const arn = await create('tagged', { tags: [{ key: 'a', value: '1' }] });
    // Act
    await sfn.send(
      new TagResourceCommand({
        resourceArn: arn,
        tags: [
          { key: 'a', value: '2' },
          { key: 'b', value: '' },
        ],
      }),
    );
    await sfn.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['b', 'absent'] }));
    const tags = await sfn.send(new ListTagsForResourceCommand({ resourceArn: arn }));
    const missing = await failure(
      sfn.send(new ListTagsForResourceCommand({ resourceArn: `${ACCOUNT_PREFIX}:stateMachine:nope` })),
    );
    const many = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    const tooMany = await failure(sfn.send(new TagResourceCommand({ resourceArn: arn, tags: many })));
    // Assess
    expect(tags.tags).toEqual([{ key: 'a', value: '2' }]);
    expect(missing).toMatchObject({ name: 'ResourceNotFound', status: 400 });
    expect(tooMany.name).toBe('TooManyTags');
    expect(tooMany.error['resourceName']).toBe(arn);
  });

  it('deletes a machine with its versions, stopping its running executions; deleting it again is no error', async () => {
    // Prepare
    const { stateMachineArn: arn, stateMachineVersionArn } = await sfn.send(
      new CreateStateMachineCommand({ name: 'deleted', roleArn: ROLE, definition: WAIT, publish: true }),
    );
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    // Act
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
    const described = await failure(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn })));
    const version = await failure(
      sfn.send(new DescribeStateMachineCommand({ stateMachineArn: stateMachineVersionArn })),
    );
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const qualified = await failure(sfn.send(new DeleteStateMachineCommand({ stateMachineArn: `${arn}/label` })));
    // Assess
    expect(described.name).toBe('StateMachineDoesNotExist');
    expect(version.name).toBe('StateMachineDoesNotExist');
    expect(execution.status).toBe('ABORTED');
    expect(qualified.name).toBe('ValidationException');
  });

  it('validates a definition: OK, or FAIL with each diagnostic and where it is', async () => {
    // Act
    const ok = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: PASS }));
    const bad = await sfn.send(
      new ValidateStateMachineDefinitionCommand({
        definition: JSON.stringify({ StartAt: 'Nowhere', States: { P: { Type: 'Pass', Next: 'Gone', End: true } } }),
      }),
    );
    const truncated = await sfn.send(
      new ValidateStateMachineDefinitionCommand({
        definition: JSON.stringify({ StartAt: 'Nowhere', States: { P: { Type: 'Pass', Next: 'Gone', End: true } } }),
        maxResults: 1,
      }),
    );
    const notJson = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: '{nope' }));
    const express = await sfn.send(
      new ValidateStateMachineDefinitionCommand({
        type: 'EXPRESS',
        definition: JSON.stringify({
          StartAt: 'B',
          States: { B: { Type: 'Task', Resource: 'arn:aws:states:::codebuild:startBuild.sync', End: true } },
        }),
      }),
    );
    // Assess
    expect(ok).toMatchObject({ result: 'OK', diagnostics: [], truncated: false });
    expect(bad.result).toBe('FAIL');
    expect(bad.diagnostics?.length).toBeGreaterThan(1);
    expect(bad.diagnostics?.[0]).toMatchObject({
      severity: 'ERROR',
      code: expect.any(String),
      location: expect.any(String),
    });
    expect(truncated).toMatchObject({ result: 'FAIL', truncated: true });
    expect(truncated.diagnostics).toHaveLength(1);
    expect(notJson.diagnostics?.[0]?.code).toBe('INVALID_JSON_DESCRIPTION');
    expect(express.result).toBe('FAIL');
  });
});

describe('StartSyncExecution and TestState at the sync- host', () => {
  it('runs an EXPRESS machine to its end and refuses a STANDARD one with StateMachineTypeNotSupported', async () => {
    // Prepare
    const express = await create('express-sync', {
      type: 'EXPRESS',
      definition: JSON.stringify({
        StartAt: 'P',
        States: { P: { Type: 'Pass', Parameters: { 'got.$': '$.a' }, End: true } },
      }),
    });
    const failing = await create('express-fails', {
      type: 'EXPRESS',
      definition: JSON.stringify({ StartAt: 'F', States: { F: { Type: 'Fail', Error: 'Bad', Cause: 'on purpose' } } }),
    });
    const standard = await create('standard-sync');
    // Act
    const ran = await sfn.send(
      new StartSyncExecutionCommand({ stateMachineArn: express, input: '{"a":1}', name: 'one' }),
    );
    const failed = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: failing }));
    const refused = await failure(sfn.send(new StartSyncExecutionCommand({ stateMachineArn: standard })));
    // Assess
    expect(ran).toMatchObject({ status: 'SUCCEEDED', output: '{"got":1}', name: 'one', stateMachineArn: express });
    expect(ran.executionArn).toMatch(new RegExp(`^${ACCOUNT_PREFIX}:express:express-sync:one:[0-9a-f-]{36}$`));
    expect(ran.billingDetails?.billedDurationInMilliseconds).toBeGreaterThanOrEqual(100);
    expect(failed).toMatchObject({ status: 'FAILED', error: 'Bad', cause: 'on purpose' });
    expect(refused).toMatchObject({ name: 'StateMachineTypeNotSupported', status: 400 });
  });

  it('answers the SDK at sync-<host>, where its default configuration sends both operations', async () => {
    // Prepare
    const express = await create('express-host', { type: 'EXPRESS' });
    const { client, asked } = sfnClientWithSyncHost(runtime.url);
    // Act
    const ran = await client.send(new StartSyncExecutionCommand({ stateMachineArn: express }));
    const tested = await client.send(new TestStateCommand({ definition: JSON.stringify({ Type: 'Pass', End: true }) }));
    client.destroy();
    // Assess
    expect(asked).toEqual(['sync-localhost', 'sync-localhost']);
    expect(ran.status).toBe('SUCCEEDED');
    expect(tested.status).toBe('SUCCEEDED');
  });
});

describe('map runs', () => {
  it('lists and describes the Distributed Map runs of an execution, from its history', async () => {
    // Prepare
    const arn = await create('fan-out', {
      definition: JSON.stringify({
        StartAt: 'Fan',
        States: {
          Fan: {
            Type: 'Map',
            Label: 'Items',
            MaxConcurrency: 2,
            ToleratedFailureCount: 1,
            ItemProcessor: {
              ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
              StartAt: 'Each',
              States: { Each: { Type: 'Pass', End: true } },
            },
            End: true,
          },
        },
      }),
    });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '[1,2,3]' }));
    await waitFor('the end of the fan-out', async () => {
      const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return out.status === 'RUNNING' ? undefined : out.status;
    });
    // Act
    const listed = await sfn.send(new ListMapRunsCommand({ executionArn }));
    const run = listed.mapRuns?.[0];
    const described = await sfn.send(new DescribeMapRunCommand({ mapRunArn: run?.mapRunArn }));
    const unknown = await failure(
      sfn.send(new DescribeMapRunCommand({ mapRunArn: `${ACCOUNT_PREFIX}:mapRun:fan-out/Items:nope-9` })),
    );
    const noExecution = await failure(
      sfn.send(new ListMapRunsCommand({ executionArn: `${ACCOUNT_PREFIX}:execution:fan-out:nope` })),
    );
    // Assess
    expect(listed.mapRuns).toHaveLength(1);
    expect(run).toMatchObject({ executionArn, stateMachineArn: `${arn}/Items` });
    expect(described).toMatchObject({
      executionArn,
      status: 'SUCCEEDED',
      maxConcurrency: 2,
      toleratedFailureCount: 1,
      toleratedFailurePercentage: 0,
      itemCounts: { total: 3, succeeded: 3, failed: 0 },
    });
    expect(described.stopDate).toBeInstanceOf(Date);
    expect(unknown.name).toBe('ResourceNotFound');
    expect(noExecution.name).toBe('ExecutionDoesNotExist');
  });
});

describe('CodeBuild projects, builds and test reports', () => {
  const JUNIT =
    '<testsuites><testsuite name="s"><testcase name="adds" classname="math" time="0.25"/><testcase name="divides" classname="math"><failure message="expected 2">trace</failure></testcase><testcase name="later" classname="io"><skipped/></testcase></testsuite></testsuites>';
  let builds: Build[];

  beforeAll(async () => {
    const repo = gitRepository({ 'README.md': '# sample\n' });
    const buildspec = [
      'version: 0.2',
      'phases:',
      '  build:',
      '    commands:',
      `      - printf '%s' '${JUNIT}' > junit.xml`,
      'reports:',
      '  unit:',
      "    files: ['junit.xml']",
    ].join('\n');
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const started = await codebuild.send(
        new StartBuildCommand({
          projectName: 'stepline-test',
          sourceLocationOverride: repo.dir,
          sourceVersion: repo.sha,
          buildspecOverride: buildspec,
        }),
      );
      ids.push(started.build?.id as string);
    }
    builds = await waitFor('the two builds', async () => {
      const out = await codebuild.send(new BatchGetBuildsCommand({ ids }));
      return out.builds?.every((b) => b.buildComplete) ? out.builds : undefined;
    });
    removeDir(repo.dir);
  });

  it('answers BatchGetProjects with the projects it has and lists the others as not found', async () => {
    // Act
    const out = await codebuild.send(new BatchGetProjectsCommand({ names: ['stepline-build', 'nope'] }));
    const empty = await failure(codebuild.send(new BatchGetProjectsCommand({ names: [] })));
    // Assess
    expect(out.projects?.[0]).toMatchObject({
      name: 'stepline-build',
      arn: 'arn:aws:codebuild:us-east-1:000000000000:project/stepline-build',
      environment: { type: 'LINUX_CONTAINER', computeType: 'BUILD_GENERAL1_SMALL' },
      artifacts: { type: 'NO_ARTIFACTS' },
    });
    expect(out.projects?.[0]?.created).toBeInstanceOf(Date);
    expect(out.projectsNotFound).toEqual(['nope']);
    expect(empty.name).toBe('InvalidInputException');
  });

  it('lists builds newest first, or oldest first, of every project or of one', async () => {
    // Act
    const all = await codebuild.send(new ListBuildsCommand({}));
    const ascending = await codebuild.send(new ListBuildsCommand({ sortOrder: 'ASCENDING' }));
    const ofProject = await codebuild.send(new ListBuildsForProjectCommand({ projectName: 'stepline-test' }));
    const ofOther = await codebuild.send(new ListBuildsForProjectCommand({ projectName: 'stepline-build' }));
    const unknown = await failure(codebuild.send(new ListBuildsForProjectCommand({ projectName: 'nope' })));
    // Assess
    const [older, newer] = builds.map((b) => b.id as string) as [string, string];
    expect(all.ids?.slice(0, 2)).toEqual([newer, older]);
    expect(ascending.ids?.slice(-2)).toEqual([older, newer]);
    expect(ofProject.ids).toEqual([newer, older]);
    expect(ofOther.ids).toEqual([]);
    expect(unknown.name).toBe('ResourceNotFoundException');
  });

  it("resolves a test build's reportArns with BatchGetReports, and lists them with ListReports", async () => {
    // Prepare
    const arns = builds.flatMap((b) => b.reportArns ?? []);
    // Act
    const got = await codebuild.send(new BatchGetReportsCommand({ reportArns: [...arns, `${arns[0]}0`] }));
    const listed = await codebuild.send(new ListReportsCommand({}));
    const failed = await codebuild.send(new ListReportsCommand({ filter: { status: 'SUCCEEDED' } }));
    // Assess
    expect(arns).toHaveLength(2);
    expect(got.reports?.map((r) => r.arn)).toEqual(arns);
    expect(got.reports?.[0]).toMatchObject({
      type: 'TEST',
      name: 'stepline-test-unit',
      reportGroupArn: 'arn:aws:codebuild:us-east-1:000000000000:report-group/stepline-test-unit',
      executionId: builds[0]?.arn,
      status: 'FAILED',
      testSummary: { total: 3, statusCounts: { SUCCEEDED: 1, FAILED: 1, SKIPPED: 1, ERROR: 0 } },
    });
    expect(got.reports?.[0]?.testSummary?.durationInNanoSeconds).toBe(250_000_000);
    expect(got.reportsNotFound).toEqual([`${arns[0]}0`]);
    expect(listed.reports).toEqual([...arns].reverse());
    expect(failed.reports).toEqual([]);
  });

  it('describes the test cases of a report, filtered and page by page', async () => {
    // Prepare
    const reportArn = builds[0]?.reportArns?.[0] as string;
    // Act
    const all = await codebuild.send(new DescribeTestCasesCommand({ reportArn }));
    const failedOnly = await codebuild.send(new DescribeTestCasesCommand({ reportArn, filter: { status: 'FAILED' } }));
    const keyword = await codebuild.send(new DescribeTestCasesCommand({ reportArn, filter: { keyword: 'io' } }));
    const first = await codebuild.send(new DescribeTestCasesCommand({ reportArn, maxResults: 2 }));
    const rest = await codebuild.send(
      new DescribeTestCasesCommand({ reportArn, maxResults: 2, nextToken: first.nextToken }),
    );
    const unknown = await failure(codebuild.send(new DescribeTestCasesCommand({ reportArn: `${reportArn}0` })));
    // Assess
    expect(all.testCases?.map((c) => `${c.prefix}.${c.name}:${c.status}`)).toEqual([
      'math.adds:SUCCEEDED',
      'math.divides:FAILED',
      'io.later:SKIPPED',
    ]);
    expect(all.testCases?.[1]).toMatchObject({ reportArn, message: 'expected 2', testRawDataPath: 'junit.xml' });
    expect(all.testCases?.[0]?.durationInNanoSeconds).toBe(250_000_000);
    expect(failedOnly.testCases?.map((c) => c.name)).toEqual(['divides']);
    expect(keyword.testCases?.map((c) => c.name)).toEqual(['later']);
    expect(first.testCases).toHaveLength(2);
    expect(rest.testCases?.map((c) => c.name)).toEqual(['later']);
    expect(rest.nextToken).toBeUndefined();
    expect(unknown.name).toBe('ResourceNotFoundException');
  });
});
