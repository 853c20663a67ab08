import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { ENVIRONMENTS, environments, REPOSITORY, sampleFiles } from './sample';
import { deliver, githubPush, gitRepository, pipelineConfig, removeDir, startTestRuntime, waitFor } from './support';

/**
 * The whole pipeline on the local runtime, from a signed GitHub push of a real git repository to a deployment
 * rolled out on the simulated cluster, with the commit statuses the real status functions posted to the local
 * sink: success, a failing test suite, a failing rollout rolled back, a redelivery, a superseded run, and an
 * approval gate decided with the CLI.
 */

const run = promisify(execFile);
const CLI = resolve(__dirname, '../../../local/cli.ts');
const TSX = resolve(__dirname, '../../../node_modules/.bin/tsx');
const GATED = 'acme/gated';

let runtime: Runtime;
const repositories: string[] = [];

function digestOf(sha: string): string {
  return `sha256:${createHash('sha256').update(sha).digest('hex')}`;
}

async function ended(executionArn: string, timeoutMs = 100_000): Promise<ExecutionRecord> {
  return waitFor(
    `the end of ${executionArn}`,
    () => {
      const e = runtime.stores.executions.getExecution(executionArn);
      return e && e.status !== 'RUNNING' ? e : undefined;
    },
    timeoutMs,
  );
}

function repository(files = sampleFiles()): ReturnType<typeof gitRepository> {
  const repo = gitRepository(files);
  repositories.push(repo.dir);
  return repo;
}

interface DeploymentView {
  readonly spec: {
    readonly template: { readonly spec: { readonly containers: readonly { readonly image: string }[] } };
  };
  readonly status: Record<string, unknown>;
}

function deploymentOf(name: string): DeploymentView {
  return runtime.cluster?.object('apps/v1', 'Deployment', name, name) as unknown as DeploymentView;
}

function latestStatuses(sha: string, name = REPOSITORY): Record<string, string> {
  return Object.fromEntries(runtime.stores.statuses.latest('github', name, sha).map((s) => [s.context, s.state]));
}

beforeAll(async () => {
  const config = pipelineConfig({
    repository: REPOSITORY,
    environments: ENVIRONMENTS,
    tests: [{ name: 'unit', buildspec: 'ci/unit.yml' }],
  });
  const gated = pipelineConfig({
    repository: GATED,
    environments: {
      production: { ...environments('gated')['staging'], approval: { approvers: ['alice'], timeoutMinutes: 30 } },
    },
  });
  (config['repositories'] as unknown[]).push(...(gated['repositories'] as unknown[]));
  // The approval keeper every second: gates allow 3 s between two heartbeats.
  runtime = await startTestRuntime({ config: config as never, approvalKeeperEveryMs: 1000 });
});

afterAll(async () => {
  await runtime.stop();
  removeDir(runtime.stateDir);
  for (const dir of repositories) removeDir(dir);
});

describe('a push to main', () => {
  let repo: ReturnType<typeof gitRepository>;
  let executionArn: string;
  let delivery: ReturnType<typeof githubPush>;

  beforeAll(async () => {
    repo = repository();
    delivery = githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha });
    const answer = await deliver(runtime, delivery);
    expect(answer).toMatchObject({ status: 202, body: { status: 'started' } });
    executionArn = answer.body['executionArn'] as string;
    await ended(executionArn);
  }, 120_000);

  it('runs the pipeline to SUCCEEDED', () => {
    // Assess
    const execution = runtime.stores.executions.getExecution(executionArn);
    expect(execution?.status, `${execution?.error}: ${execution?.cause}`).toBe('SUCCEEDED');
    expect(execution?.repository).toBe(REPOSITORY);
  });

  it('rolls the deployment out on the simulated cluster with the image the build made', () => {
    // Assess
    const deployment = deploymentOf('hello');
    expect(deployment.spec.template.spec.containers[0]?.image).toBe(
      `000000000000.dkr.ecr.us-east-1.amazonaws.com/${REPOSITORY}@${digestOf(repo.sha)}`,
    );
    expect(deployment.status).toMatchObject({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
  });

  it('reports pending then success for every context to the local Git host sink', () => {
    // Assess
    const all = runtime.stores.statuses.ofCommit('github', REPOSITORY, repo.sha);
    expect(all.find((s) => s.context === 'stepline')?.state).toBe('pending');
    expect(latestStatuses(repo.sha)).toEqual({
      stepline: 'success',
      'stepline/build': 'success',
      'stepline/test/unit': 'success',
      'stepline/deploy/staging': 'success',
    });
  });

  it('keeps the build and test logs, linked from the statuses', async () => {
    // Prepare
    const build = runtime.stores.statuses
      .latest('github', REPOSITORY, repo.sha)
      .find((s) => s.context === 'stepline/build');
    // Act
    const response = await fetch(build?.targetUrl as string);
    const text = await response.text();
    // Assess
    expect(response.status).toBe(200);
    expect(text).toContain(`built 000000000000.dkr.ecr.us-east-1.amazonaws.com/${REPOSITORY}@${digestOf(repo.sha)}`);
  });

  it('answers a redelivery as a duplicate and starts nothing', async () => {
    // Prepare
    const before = runtime.stores.executions.listExecutions({}, 1000).items.length;
    // Act
    const again = await deliver(runtime, delivery);
    // Assess
    expect(again.body).toMatchObject({ status: 'duplicate', executionArn });
    expect(runtime.stores.executions.listExecutions({}, 1000).items.length).toBe(before);
  });

  it('counts the run, the delivery and the deploy in /metrics', async () => {
    // Act
    const text = await (await fetch(`${runtime.url}/metrics`)).text();
    // Assess
    expect(text).toMatch(/stepline_runs_succeeded_total\{repository="acme\/hello"\} [1-9]/);
    expect(text).toMatch(/stepline_deliveries_total\{outcome="accepted"\} [1-9]/);
    expect(text).toMatch(/stepline_deliveries_total\{outcome="duplicate"\} [1-9]/);
    expect(text).toMatch(/stepline_deploys_total\{environment="staging",outcome="succeeded"\} [1-9]/);
    expect(text).toMatch(/stepline_step_duration_seconds_count\{state="Build"\} [1-9]/);
  });
});

describe('runs that do not succeed', () => {
  it('fails the run when a test suite fails, and reports the suite as failed', { timeout: 120_000 }, async () => {
    // Prepare
    const repo = repository(sampleFiles({ service: 'broken\n' }));
    // Act
    const answer = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }));
    const execution = await ended(answer.body['executionArn'] as string);
    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'Stepline.TestsFailed' });
    expect(latestStatuses(repo.sha)).toMatchObject({ stepline: 'failure', 'stepline/test/unit': 'failure' });
  });

  it('rolls a failing rollout back to the last good revision and fails the run', { timeout: 120_000 }, async () => {
    // Prepare: a first commit deploys, the second one's image never becomes ready
    const repo = repository();
    const good = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }));
    expect((await ended(good.body['executionArn'] as string)).status).toBe('SUCCEEDED');
    const badSha = repo.commit({
      'deploy/staging/app.yaml': sampleFiles()['deploy/staging/app.yaml']!.replace(
        'progressDeadlineSeconds: 600',
        'progressDeadlineSeconds: 30',
      ),
    });
    runtime.cluster?.setImageReadiness((image) => !image.includes(digestOf(badSha)));
    // Act
    const bad = await deliver(
      runtime,
      githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: badSha, before: repo.sha }),
    );
    const execution = await ended(bad.body['executionArn'] as string);
    runtime.cluster?.setImageReadiness(() => true);
    // Assess
    expect(execution).toMatchObject({ status: 'FAILED', error: 'Stepline.DeployFailed' });
    expect(deploymentOf('hello').spec.template.spec.containers[0]?.image).toContain(digestOf(repo.sha));
    expect(latestStatuses(badSha)).toMatchObject({ stepline: 'failure', 'stepline/deploy/staging': 'failure' });
  });

  it('stops an older run of the branch when a newer push comes, and reports it cancelled', {
    timeout: 120_000,
  }, async () => {
    // Prepare: the first build waits until the second push has arrived
    const repo = repository(sampleFiles());
    const slowSha = repo.commit({
      'buildspec.yml': sampleFiles()['buildspec.yml']!.replace(
        '      - test -f service.txt',
        '      - test -f service.txt\n      - sleep 4',
      ),
    });
    const first = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: slowSha }));
    await waitFor('the first run to start building', () =>
      runtime.stores.builds.list({ executionArn: first.body['executionArn'] as string }).length > 0 ? true : undefined,
    );
    const newerSha = repo.commit({ 'service.txt': 'hello again\n' });
    // Act
    const second = await deliver(
      runtime,
      githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: newerSha, before: slowSha }),
    );
    const older = await ended(first.body['executionArn'] as string);
    const newer = await ended(second.body['executionArn'] as string);
    // Assess
    expect(older).toMatchObject({ status: 'ABORTED', error: 'Stepline.Superseded' });
    expect(newer.status).toBe('SUCCEEDED');
    await waitFor('the cancelled status', () => (latestStatuses(slowSha)['stepline'] === 'error' ? true : undefined));
  });

  it('refuses a delivery signed with another secret with 401 and starts nothing', async () => {
    // Prepare
    const repo = repository();
    const before = runtime.stores.executions.listExecutions({}, 1000).items.length;
    // Act
    const answer = await deliver(
      runtime,
      githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha, secret: 'another-secret' }),
    );
    // Assess
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: 'invalid_signature' });
    expect(runtime.stores.executions.listExecutions({}, 1000).items.length).toBe(before);
  });
});

describe('an approval gate', () => {
  it('waits for an approver, refuses someone else, and deploys once approved with the CLI', {
    timeout: 120_000,
  }, async () => {
    // Prepare
    const repo = repository(sampleFiles({ name: 'gated' }));
    const answer = await deliver(runtime, githubPush({ repository: GATED, cloneUrl: repo.dir, sha: repo.sha }));
    const executionArn = answer.body['executionArn'] as string;
    const name = executionArn.split(':').pop() as string;
    await waitFor('the approval request', async () =>
      (await runtime.approvals.list({ status: 'waiting', executionArn })).length ? true : undefined,
    );
    // Twice the heartbeat allowance: the keeper's heartbeats hold the gate open.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const stillWaiting = runtime.stores.executions.getExecution(executionArn)?.status;
    const cli = (...args: string[]) =>
      run(TSX, [CLI, ...args, '--url', runtime.url], { env: { ...process.env, USER: 'nobody' } }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    // Act: the CLI decides as the runtime's identity (ADR 0087): as mallory, then as alice; never as a name it sends.
    runtime.approvals.setIdentity('mallory');
    const refused = await cli('approve', name);
    const impersonated = await cli('approve', name, '--as', 'alice');
    runtime.approvals.setIdentity('alice');
    const approved = await cli('approve', name, '--reason', 'looks good');
    const execution = await ended(executionArn);
    // Assess
    expect(stillWaiting).toBe('RUNNING');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('stepline: not approved: mallory is not among the approvers of production (alice)\n');
    expect(impersonated.code).toBe(1);
    expect(impersonated.stderr).toContain('this runtime decides as mallory, not alice');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain('approved: production (as alice)');
    expect(execution.status, `${execution.error}: ${execution.cause}`).toBe('SUCCEEDED');
    const [approval] = await runtime.approvals.list({ executionArn });
    expect(approval).toMatchObject({ status: 'approved', decidedBy: 'alice', reason: 'looks good' });
    expect(approval).not.toHaveProperty('taskToken');
  });
});
