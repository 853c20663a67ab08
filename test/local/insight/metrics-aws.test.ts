import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDeploymentStore } from '../../../adapters/aws/deployments-dynamodb';
import type { DeploymentRecord, DoraReport } from '../../../core/insight';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { FakeGitHost } from '../../support/githost/fake-git-host';
import { MOTO_CREDENTIALS, MOTO_REGION, motoClientConfig } from '../../support/moto/clients';
import { onlyOfType, useMoto } from '../../support/moto/fixture';
import { ENVIRONMENTS, REPOSITORY, sampleFiles } from '../runtime/sample';
import {
  deliver,
  githubPush,
  gitRepository,
  pipelineConfig,
  removeDir,
  startTestRuntime,
  waitFor,
} from '../runtime/support';

/**
 * `stepline metrics dora --aws` (local/bin/metrics-aws.ts, ADR 0118) against real stand-ins: the deployments table
 * the synthesized template declares and the Git host tokens secret on moto_server, the stack's outputs from moto's
 * CloudFormation (a small stack whose outputs name them), and Step Functions as the local runtime serves its API, with
 * the executions of real runs. The CLI runs as a user runs it, in its own process, with the SDK's own chain:
 * credentials and region from the environment, `AWS_ENDPOINT_URL` (moto) and `AWS_ENDPOINT_URL_SFN` (the runtime).
 *
 * The runs are runtime.test.ts's three to staging: the first commit deployed; two more commits pushed at once and
 * deployed; a fourth whose rollout never gets ready, rolled back.
 */

const run = (args: readonly string[], env: Record<string, string>) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(TSX, [CLI, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
const CLI = resolve(__dirname, '../../../local/cli.ts');
const TSX = resolve(__dirname, '../../../node_modules/.bin/tsx');

const moto = useMoto({ select: (id) => id.startsWith('StatusReporterDeployments') });
const table = () => onlyOfType(moto().standIns, 'AWS::DynamoDB::Table', 'StatusReporterDeployments').ref;
const store = () => new DynamoDeploymentStore(table(), moto().clients.dynamodb);

let runtime: Runtime;
let repo: ReturnType<typeof gitRepository>;
let host: FakeGitHost;
/** The records the runtime made live, oldest first. */
let live: DeploymentRecord[];

async function push(sha: string, before?: string): Promise<ExecutionRecord> {
  const answer = await deliver(
    runtime,
    githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha, ...(before ? { before } : {}) }),
  );
  const arn = answer.body['executionArn'] as string;
  return waitFor(
    `the end of ${arn}`,
    () => {
      const e = runtime.stores.executions.getExecution(arn);
      return e && e.status !== 'RUNNING' ? e : undefined;
    },
    100_000,
  );
}

function localRecords(): DeploymentRecord[] {
  return (
    runtime.stores.db.prepare('SELECT document FROM deployment_records ORDER BY deployed_at').all() as {
      document: string;
    }[]
  ).map((r) => JSON.parse(r.document) as DeploymentRecord);
}

/** The environment of the CLI: moto's credentials and region, nothing from this machine's AWS configuration. */
function awsEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '/tmp',
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    AWS_REGION: MOTO_REGION,
    AWS_ENDPOINT_URL: moto().server.endpoint,
    AWS_ENDPOINT_URL_SFN: runtime.url,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    STEPLINE_GITHUB_API_URL: host.baseUrl('github'),
    ...extra,
  };
}

async function tokensSecret(value: Record<string, unknown>): Promise<string> {
  const out = await moto().clients.secretsManager.send(
    new CreateSecretCommand({ Name: 'GitHostTokens-test', SecretString: JSON.stringify(value) }),
  );
  return out.ARN!;
}

/** A deployed stack as moto's CloudFormation keeps it: one resource, and the outputs given. */
async function stack(name: string, outputs: Record<string, string>): Promise<void> {
  const cfn = new CloudFormationClient(motoClientConfig(moto().server.endpoint));
  const template = {
    Resources: { Placeholder: { Type: 'AWS::SQS::Queue', Properties: {} } },
    Outputs: Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, { Value: value }])),
  };
  await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: JSON.stringify(template) }));
  cfn.destroy();
}

/** The GitHub API answers (commits of a deploy, with their committer dates) that give each live record its commits. */
function answerCommitsAsGit(): void {
  for (const record of live) {
    const commits = [...(record.commits ?? [])].reverse().map((c) => ({
      sha: c.sha,
      commit: { committer: { date: c.time } },
    }));
    const body = record.previousSha && record.previousSha !== record.sha ? { commits } : commits[0];
    host.enqueue({ status: 200, body }, { provider: 'github', pathIncludes: record.sha });
  }
}

/** An HTTP endpoint that answers every request with `status` and a JSON body, as a service's error. */
async function answering(status: number, body: unknown) {
  const server = createServer((req, res) => {
    counted.requests++;
    req.resume().on('end', () => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const counted = {
    requests: 0,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
  return counted;
}

beforeAll(async () => {
  host = await new FakeGitHost().start();
  runtime = await startTestRuntime({
    config: pipelineConfig({ repository: REPOSITORY, environments: ENVIRONMENTS }) as never,
  });
  repo = gitRepository(sampleFiles());
  const shas = [repo.sha];
  expect((await push(repo.sha)).status).toBe('SUCCEEDED');
  shas.push(repo.commit({ 'notes/one.txt': 'one\n' }, 'second'));
  shas.push(repo.commit({ 'notes/two.txt': 'two\n' }, 'third'));
  expect((await push(shas[2]!, shas[0])).status).toBe('SUCCEEDED');
  shas.push(
    repo.commit({
      'deploy/staging/app.yaml': sampleFiles()['deploy/staging/app.yaml']!.replace(
        'progressDeadlineSeconds: 600',
        'progressDeadlineSeconds: 30',
      ),
    }),
  );
  const digest = `sha256:${createHash('sha256').update(shas[3]!).digest('hex')}`;
  runtime.cluster?.setImageReadiness((image) => !image.includes(digest));
  const failed = await push(shas[3]!, shas[2]);
  runtime.cluster?.setImageReadiness(() => true);
  expect(failed).toMatchObject({ status: 'FAILED', error: 'Stepline.DeployFailed' });
  live = localRecords();
  expect(live).toHaveLength(3);
}, 300_000);

afterAll(async () => {
  await runtime?.stop();
  await host?.close();
  if (runtime) removeDir(runtime.stateDir);
  if (repo) removeDir(repo.dir);
});

describe('stepline metrics dora --aws', () => {
  it('prints the figures of the records in DynamoDB, the same as the local runtime prints for the same runs', async () => {
    // Prepare: the runtime's records, as the status function would have written them on AWS
    for (const record of live) await store().put(record);

    // Act
    const local = await run(['metrics', 'dora', '--url', runtime.url, '--since', '7d', '--json'], awsEnv());
    const aws = await run(
      ['metrics', 'dora', '--aws', '--deployments-table', table(), '--since', '7d', '--json'],
      awsEnv(),
    );
    const localText = await run(['metrics', 'dora', '--url', runtime.url], awsEnv());
    const awsText = await run(['metrics', 'dora', '--aws', '--deployments-table', table()], awsEnv());

    // Assess: 2 of 3 deploys succeeded, 3 commits' lead times, 1 failure of 3, failed since the third
    expect(aws).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(aws.stdout) as DoraReport;
    expect(report.environments).toEqual((JSON.parse(local.stdout) as DoraReport).environments);
    expect(report.environments[0]).toMatchObject({
      environment: 'staging',
      deploymentFrequency: { succeeded: 2 },
      leadTime: { changes: 3 },
      changeFailureRate: { failures: 1, deploys: 3 },
    });
    expect(awsText.stdout).toBe(localText.stdout);
    expect(awsText.stdout).toMatch(/^staging\s+2\s+0\.07\/day, weekly\s+\S+ \/ \S+\s+33% \(1 of 3\)/m);
  }, 60_000);

  it('backfills from the executions the stack outputs name: 3 records with the Git host commit times, then 0', async () => {
    // Prepare: the stack's outputs name the table, the state machine and the tokens secret
    const secret = await tokensSecret({ github: 'ghp_backfill' });
    await stack('Insight', {
      DeploymentsTableName: table(),
      StateMachineArn: runtime.stateMachineArn,
      GitHostTokensSecretArn: secret,
    });
    host.reset();
    answerCommitsAsGit();

    // Act
    const first = await run(['metrics', 'dora', '--aws', '--stack-name', 'Insight', '--backfill', '--json'], awsEnv());
    const again = await run(['metrics', 'dora', '--aws', '--stack-name', 'Insight', '--backfill'], awsEnv());

    // Assess: the live records again, but their times (a history's TaskScheduled, not the report's end)
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(first.stdout).backfill).toEqual({ written: 3, existing: 0, unreadCommits: [] });
    expect(again.stdout).toMatch(/^backfill: 0 records made from execution histories, 3 had one already$/m);
    const written = await store().list({});
    const strip = (r: DeploymentRecord) => ({ ...r, deployedAt: undefined });
    expect(written.map(strip)).toEqual(live.map(strip));
    for (const [i, r] of written.entries()) {
      expect(Math.abs(Date.parse(r.deployedAt) - Date.parse(live[i]!.deployedAt))).toBeLessThan(5_000);
    }
    expect(host.requests.map((r) => r.headers['authorization'])).toEqual(Array(3).fill('Bearer ghp_backfill'));
  }, 60_000);

  it('says which deploys it could not read commit times for, and why', async () => {
    // Prepare: a tokens secret with no GitHub token
    const secret = await tokensSecret({ gitlab: 'glpat-other' });
    host.reset();

    // Act
    const answer = await run(
      [
        'metrics',
        'dora',
        '--aws',
        '--deployments-table',
        table(),
        '--state-machine-arn',
        runtime.stateMachineArn,
        '--tokens-secret',
        secret,
        '--backfill',
      ],
      awsEnv(),
    );

    // Assess
    expect(answer.code).toBe(0);
    expect(answer.stdout).toMatch(/^backfill: 3 records made from execution histories, 0 had one already$/m);
    expect(answer.stdout).toContain('commit times not read for 3 deploys (no lead time for them):');
    for (const record of live) {
      expect(answer.stdout).toContain(
        `  github ${REPOSITORY} ${record.sha.slice(0, 7)}: no github token in the tokens secret`,
      );
    }
    expect((await store().list({})).map((r) => r.commits)).toEqual([null, null, null]);
    expect(host.requests).toEqual([]);
  }, 60_000);

  it('refuses a malformed Git host API URL by its variable, as the functions do at cold start', async () => {
    // Prepare
    const secret = await tokensSecret({ github: 'ghp-token' });

    // Act
    const answer = await run(
      [
        'metrics',
        'dora',
        '--aws',
        '--deployments-table',
        table(),
        '--state-machine-arn',
        runtime.stateMachineArn,
        '--tokens-secret',
        secret,
        '--backfill',
      ],
      awsEnv({ STEPLINE_GITHUB_API_URL: 'ftp://ghe.example.com/api/v3' }),
    );

    // Assess
    expect(answer.code).not.toBe(0);
    expect(answer.stderr).toMatch(/STEPLINE_GITHUB_API_URL: must be an http\(s\) URL/);
    expect(answer.stderr).not.toContain('ghp-token');
  }, 60_000);

  it('names the stack output it needs and the stack lacks, and a stack that does not exist', async () => {
    // Prepare: a stack deployed before delivery insight had its table output
    await stack('Older', { StateMachineArn: runtime.stateMachineArn });

    // Act
    const older = await run(['metrics', 'dora', '--aws', '--stack-name', 'Older', '--backfill'], awsEnv());
    const absent = await run(['metrics', 'dora', '--aws', '--stack-name', 'Nowhere'], awsEnv());

    // Assess
    expect(older.code).toBe(1);
    expect(older.stderr).toMatch(/^stepline: stack Older has no output DeploymentsTableName \(/);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/^stepline: stack Nowhere not found in eu-west-1: give --stack-name/);
  }, 60_000);

  it('says there are no AWS credentials when the SDK finds none', async () => {
    // Act
    const answer = await run(
      ['metrics', 'dora', '--aws', '--deployments-table', table()],
      awsEnv({ AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' }),
    );

    // Assess
    expect(answer.code).toBe(1);
    expect(answer.stderr).toMatch(/^stepline: no AWS credentials: the AWS SDK found none/);
  }, 60_000);

  it('names the IAM action and the resource a refusal was for', async () => {
    // Prepare: DynamoDB refuses the Scan, as it answers a caller whose policies do not allow it
    const dynamo = await answering(400, {
      __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException',
      message: 'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: dynamodb:Scan',
    });

    // Act
    const answer = await run(
      ['metrics', 'dora', '--aws', '--deployments-table', 'Deployments'],
      awsEnv({ AWS_ENDPOINT_URL_DYNAMODB: dynamo.url }),
    );
    await dynamo.close();

    // Assess
    expect(answer.code).toBe(1);
    expect(answer.stderr).toMatch(
      /^stepline: access denied: dynamodb:Scan on table Deployments; the credentials' policies must allow it \(AccessDeniedException: /,
    );
  }, 60_000);

  it('lets the SDK retry a throttled call, and says so when it stays throttled', async () => {
    // Prepare: DynamoDB throttles every request (a stand-in: moto never throttles)
    const dynamo = await answering(400, {
      __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
      message: 'Rate of requests exceeds the allowed throughput.',
    });

    // Act
    const answer = await run(
      ['metrics', 'dora', '--aws', '--deployments-table', 'Deployments'],
      awsEnv({ AWS_ENDPOINT_URL_DYNAMODB: dynamo.url, AWS_MAX_ATTEMPTS: '3' }),
    );
    await dynamo.close();

    // Assess
    expect(dynamo.requests).toBe(3);
    expect(answer.code).toBe(1);
    expect(answer.stderr).toMatch(
      /^stepline: dynamodb:Scan on table Deployments was throttled, and still was after the SDK's retries \(ThrottlingException: .*3 attempts\)/,
    );
  }, 60_000);

  it('finds the deployments table among the outputs of the stack as synthesized', () => {
    // Act
    const outputs = (moto().template as { Outputs?: Record<string, { Value: unknown }> }).Outputs ?? {};

    // Assess
    expect(outputs['DeploymentsTableName']?.Value).toEqual({
      Ref: onlyOfType(moto().standIns, 'AWS::DynamoDB::Table', 'StatusReporterDeployments').logicalId,
    });
    expect(outputs['StateMachineArn']).toBeDefined();
    expect(outputs['GitHostTokensSecretArn']).toBeDefined();
  });
});
