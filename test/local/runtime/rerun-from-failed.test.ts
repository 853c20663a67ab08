import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionInput } from '../../../core/intake/types';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { githubDelivery, githubExample, type Loose } from '../../unit/intake/support';
import { manifests, sampleFiles } from './sample';
import {
  deliver,
  githubPush,
  gitRepository,
  pipelineConfig,
  removeDir,
  SECRET,
  startTestRuntime,
  waitFor,
} from './support';

/**
 * "Re-run from the failed environment" on the local runtime (issue 17, ADR 0106): a push deploys staging and fails
 * in production (a sidecar there never becomes ready); once production is fixed, the re-run starts at production,
 * builds nothing and runs no test, and deploys the image the first run built, by digest.
 */

const REPOSITORY = 'acme/hello';

/** A Namespace and a Deployment called `namespace`, whose container `hello` runs the image the build made. */
const manifestsIn = (namespace: string) => manifests(namespace).replace(`- name: ${namespace}`, '- name: hello');

/**
 * production's Deployment has a sidecar whose image the test makes never ready, then ready. The rollout fails by its
 * own deadline (rollout.timeoutSeconds), on the execution's virtual clock as the Waits between its checks are
 * (ADR 0114).
 */
const PRODUCTION = manifestsIn('prod').replace(
  '          ports:\n',
  '          ports:\n            - containerPort: 8080\n        - name: probe\n          image: registry.example/probe:1\n          ports:\n',
);

let runtime: Runtime;
let repo: ReturnType<typeof gitRepository>;
/** The run that failed in production (the first test's). */
let failedArn = '';

/** GitHub's "Re-run" pressed on the check run `name` of `executionArn` (@octokit/webhooks-examples). */
function press(executionArn: string, name: string, deliveryId: string) {
  const payload = githubExample('check_run', (p: Loose) => p.action === 'rerequested');
  payload.check_run.external_id = executionArn;
  payload.check_run.head_sha = repo.sha;
  payload.check_run.name = name;
  payload.repository.full_name = REPOSITORY;
  const signed = githubDelivery('check_run', payload, { secret: SECRET, deliveryId });
  const headers = Object.fromEntries(
    Object.entries(signed.headers).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return { headers, body: signed.body.toString('utf8') };
}

function environment(namespace: string, manifestsDir: string): Record<string, unknown> {
  return {
    cluster: { type: 'kubeconfig' },
    namespace,
    clusterScopedKinds: ['Namespace'],
    manifests: manifestsDir,
    rollout: { timeoutSeconds: 30, pollSeconds: 2 },
  };
}

beforeAll(async () => {
  const config = pipelineConfig({
    repository: REPOSITORY,
    environments: { staging: environment('stage', 'staging'), production: environment('prod', 'production') },
    tests: [{ name: 'unit', buildspec: 'ci/unit.yml' }],
  });
  // The cluster's own progress deadline at full scale (600 s): production fails by the rollout's deadline only.
  runtime = await startTestRuntime({
    config: config as never,
    clock: 'virtual',
    simulatedCluster: { tickMs: 20, timeScale: 1 },
  });
  repo = gitRepository({
    ...sampleFiles(),
    'deploy/staging/app.yaml': manifestsIn('stage'),
    'deploy/production/app.yaml': PRODUCTION,
  });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  if (runtime) removeDir(runtime.stateDir);
  if (repo) removeDir(repo.dir);
});

async function ended(executionArn: string): Promise<ExecutionRecord> {
  return waitFor(
    `the end of ${executionArn}`,
    () => {
      const e = runtime.stores.executions.getExecution(executionArn);
      return e && e.status !== 'RUNNING' ? e : undefined;
    },
    100_000,
  );
}

const entered = (arn: string) =>
  runtime.stores.executions
    .history(arn)
    .filter((e) => e.type.endsWith('StateEntered'))
    .map((e) => String((e['stateEnteredEventDetails'] as { name?: string } | undefined)?.name));

function generationIn(namespace: string): number | undefined {
  const live = runtime.cluster?.object('apps/v1', 'Deployment', namespace, namespace) as
    | { metadata: { generation: number } }
    | undefined;
  return live?.metadata.generation;
}

function imageIn(namespace: string): string | undefined {
  const live = runtime.cluster?.object('apps/v1', 'Deployment', namespace, namespace) as
    | { spec: { template: { spec: { containers: { name: string; image: string }[] } } } }
    | undefined;
  return live?.spec.template.spec.containers.find((c) => c.name === 'hello')?.image;
}

describe('re-run from the failed environment', () => {
  it('starts at production with the first run’s image: no build, no test, staging left alone', {
    timeout: 200_000,
  }, async () => {
    // Prepare: staging deploys, production's sidecar never becomes ready
    runtime.cluster?.setImageReadiness((image) => !image.includes('probe'));
    const answer = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }));
    const first = await ended(String(answer.body['executionArn']));
    failedArn = first.arn;
    const stagingImage = imageIn('stage');
    const stagingGeneration = generationIn('stage');
    runtime.cluster?.setImageReadiness(() => true);

    // Act
    const rerun = await runtime.runs.rerun(first.arn, { by: 'alice', fromFailed: true });
    const second = await ended(rerun.executionArn);

    // Assess
    expect(first).toMatchObject({ status: 'FAILED', error: 'Stepline.DeployFailed' });
    expect(JSON.parse(first.cause ?? '{}')).toMatchObject({ environment: 'production' });
    expect(first.cause).toContain('did not complete by its deadline');
    expect(stagingImage).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(rerun.input.route.environments.map((e) => e.name)).toEqual(['production']);
    expect(rerun.input.prebuilt).toMatchObject({ image: { digest: stagingImage?.split('@')[1] }, from: first.arn });
    expect(second.status).toBe('SUCCEEDED');
    const states = entered(second.arn);
    expect(states).not.toContain('Build');
    expect(states).not.toContain('RunSuite');
    expect(states.filter((s) => s === 'Deploy')).toHaveLength(1);
    expect(runtime.stores.builds.list({ executionArn: first.arn })).toHaveLength(2);
    expect(runtime.stores.builds.list({ executionArn: second.arn })).toEqual([]);
    // production runs the very image staging got from the first run; staging was not touched again.
    expect(imageIn('prod')).toBe(stagingImage);
    expect(stagingGeneration).toBeGreaterThan(0);
    expect(generationIn('stage')).toBe(stagingGeneration);
    const latest = Object.fromEntries(
      runtime.stores.statuses.latest('github', REPOSITORY, repo.sha).map((s) => [s.context, s.state]),
    );
    expect(latest).toMatchObject({
      stepline: 'success',
      'stepline/build': 'success',
      'stepline/test/unit': 'success',
      'stepline/deploy/production': 'success',
    });
  });

  it('answers GitHub\'s "Re-run" on the failed environment\'s check run the same way, through Step Functions', {
    timeout: 200_000,
  }, async () => {
    // Act: through the webhook, the AWS RerunStarter over the runtime's Step Functions API (DescribeExecution,
    // GetExecutionHistory, StartExecution)
    const deploy = await deliver(
      runtime,
      press(failedArn, 'stepline/deploy/production', 'e1e2e3e4-0000-4000-8000-00000000d001'),
    );
    const build = await deliver(runtime, press(failedArn, 'stepline/build', 'e1e2e3e4-0000-4000-8000-00000000d002'));
    const fromFailed = await ended(String(deploy.body['executionArn']));
    const whole = await ended(String(build.body['executionArn']));

    // Assess
    expect(deploy).toMatchObject({ status: 202, body: { status: 'started' } });
    const input = JSON.parse(fromFailed.input) as ExecutionInput;
    expect(input.route.environments.map((e) => e.name)).toEqual(['production']);
    expect(input.prebuilt).toMatchObject({ image: { digest: expect.stringMatching(/^sha256:/) }, from: failedArn });
    expect(fromFailed.status).toBe('SUCCEEDED');
    expect(entered(fromFailed.arn)).not.toContain('Build');
    // "Re-run" on another check run starts the whole run again.
    expect(JSON.parse(whole.input)).toEqual(JSON.parse(runtime.stores.executions.getExecution(failedArn)?.input ?? ''));
    expect(entered(whole.arn)).toContain('Build');
  });

  it('refuses --from-failed for a run that did not fail in an environment', async () => {
    // Prepare: a run that succeeds
    const second = repo.commit({ 'service.txt': 'hello, again\n' });
    const answer = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: second }));
    const done = await ended(String(answer.body['executionArn']));

    // Act
    const refused = runtime.runs.rerun(done.arn, { by: 'alice', fromFailed: true });

    // Assess
    expect(done.status).toBe('SUCCEEDED');
    await expect(refused).rejects.toThrow(/did not fail in an environment/);
  }, 200_000);
});
