import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { manifests, sampleFiles } from './sample';
import { deliver, githubPush, gitRepository, pipelineConfig, removeDir, startTestRuntime, waitFor } from './support';

/**
 * A rollout's deadline on the local runtime's virtual clock (ADR 0114): the deploy function computes the deadline and
 * the rollout function checks it on the clock of the execution that invokes them, the clock the workflow's Waits
 * between the checks run on. How fast the machine runs does not decide whether a rollout fails by its deadline.
 */

const REPOSITORY = 'acme/deadline';
const NAMESPACE = 'stage';
const TIMEOUT_SECONDS = 30;
const POLL_SECONDS = 2;
const DEPLOYMENT_PATH = `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/${NAMESPACE}`;

/** The Deployment's pod runs the image the build made (container `deadline`) and a sidecar `probe` that is ready only when the test says. */
const APP = manifests(NAMESPACE)
  .replace(`- name: ${NAMESPACE}\n          image`, '- name: deadline\n          image')
  .replace(
    '          ports:\n',
    '          ports:\n            - containerPort: 8080\n        - name: probe\n          image: registry.example/probe:1\n          ports:\n',
  );

const probeNeverReady = (image: string): boolean => !image.includes('probe');

let runtime: Runtime;
let repo: ReturnType<typeof gitRepository>;

beforeAll(async () => {
  const config = pipelineConfig({
    repository: REPOSITORY,
    environments: {
      staging: {
        cluster: { type: 'kubeconfig' },
        namespace: NAMESPACE,
        clusterScopedKinds: ['Namespace'],
        manifests: 'staging',
        rollout: { timeoutSeconds: TIMEOUT_SECONDS, pollSeconds: POLL_SECONDS },
      },
    },
  });
  // The cluster's controllers step only before each rollout check (their timer, once an hour, never fires here), so
  // how far a rollout has got at each check does not depend on the machine's speed; and its own progress deadline is
  // at full scale (600 s of the machine's time): only the rollout's deadline can fail these runs.
  runtime = await startTestRuntime({
    config: config as never,
    clock: 'virtual',
    simulatedCluster: { tickMs: 3_600_000, timeScale: 1 },
  });
  repo = gitRepository({ ...sampleFiles(), 'deploy/staging/app.yaml': APP });
}, 60_000);

afterEach(() => {
  vi.useRealTimers();
});

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

/** When each state named `name` was entered, on the execution's clock (ms). */
function enteredAt(arn: string, name: string): number[] {
  return runtime.stores.executions
    .history(arn)
    .filter(
      (e) =>
        e.type.endsWith('StateEntered') &&
        (e['stateEnteredEventDetails'] as { name?: string } | undefined)?.name === name,
    )
    .map((e) => new Date(String(e['timestamp'])).getTime());
}

describe('a rollout’s deadline on the virtual clock', () => {
  it('fails a rollout that never completes by its deadline, after the checks that fit in it', {
    timeout: 200_000,
  }, async () => {
    // Prepare
    runtime.cluster?.setImageReadiness(probeNeverReady);

    // Act
    const answer = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }));
    const run = await ended(String(answer.body['executionArn']));

    // Assess: a check every 2 s of the execution's time from the deploy; the one at 30 s finds the deadline passed.
    expect(run).toMatchObject({ status: 'FAILED', error: 'Stepline.DeployFailed' });
    expect(run.cause).toContain('did not complete by its deadline');
    const [deployed] = enteredAt(run.arn, 'Deploy');
    const checks = enteredAt(run.arn, 'CheckRollout');
    expect(checks).toHaveLength(TIMEOUT_SECONDS / POLL_SECONDS);
    expect(checks.map((at) => (at - (deployed ?? Number.NaN)) / 1000)).toEqual(
      Array.from({ length: TIMEOUT_SECONDS / POLL_SECONDS }, (_, i) => (i + 1) * POLL_SECONDS),
    );
  });

  it('does not fail a rollout by its deadline when the machine’s time passes it but the execution’s does not', {
    timeout: 200_000,
  }, async () => {
    // Prepare: the machine's clock (Date) runs on, and jumps 60 s (past the 30 s deadline; less than `ended`'s
    // patience, which is on that clock too) during the first rollout check; the probe is ready from the third check.
    const sha = repo.commit({ 'service.txt': 'hello, again\n' });
    runtime.cluster?.setImageReadiness(probeNeverReady);
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    let applied = false;
    let reads = 0;
    const stop = runtime.cluster?.onRequest((request) => {
      if (request.path !== DEPLOYMENT_PATH) return;
      if (request.method === 'PATCH') applied = true;
      if (!applied || request.method !== 'GET') return;
      reads += 1;
      if (reads === 1) vi.setSystemTime(Date.now() + 60_000);
      if (reads === 3) runtime.cluster?.setImageReadiness(() => true);
    });

    // Act
    let run: ExecutionRecord;
    try {
      const answer = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha }));
      run = await ended(String(answer.body['executionArn']));
    } finally {
      stop?.();
    }

    // Assess
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(run.cause ?? '').not.toContain('deadline');
    expect(run.status).toBe('SUCCEEDED');
    const [deployed] = enteredAt(run.arn, 'Deploy');
    const checks = enteredAt(run.arn, 'CheckRollout');
    expect(checks.length).toBeGreaterThanOrEqual(3);
    expect(((checks.at(-1) ?? Number.NaN) - (deployed ?? Number.NaN)) / 1000).toBeLessThan(TIMEOUT_SECONDS);
  });
});
