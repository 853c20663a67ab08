import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import { startChildRuntime } from './child-support';
import { REPOSITORY, sampleFiles } from './sample';
import {
  deliver,
  githubPush,
  gitRepository,
  pipelineConfig,
  removeDir,
  SECRET,
  sfnClient,
  startTestRuntime,
  tempDir,
  waitFor,
} from './support';

/**
 * A `kill -9` of the local runtime in the middle of a canary (ADR 0067, 0053): the runtime kills itself right after
 * the first measurement of the first step; after a restart the run resumes at that step, measures on, promotes,
 * and never deploys again.
 */

const NAME = 'hello';
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const config = pipelineConfig({
  repository: REPOSITORY,
  environments: {
    staging: {
      cluster: { type: 'kubeconfig' },
      namespace: NAME,
      clusterScopedKinds: ['Namespace'],
      manifests: 'staging',
      rollout: { timeoutSeconds: 60, pollSeconds: 2 },
      strategy: {
        type: 'canary',
        steps: [{ weight: 50, pauseSeconds: 0 }],
        analysis: {
          interval: 5,
          count: 2,
          metrics: [
            {
              name: 'errors',
              provider: {
                prometheus: {
                  address: 'http://prometheus.stepline.local',
                  query: `stepline_demo_http_error_ratio{namespace="${NAME}",deployment="${NAME}",track="canary"}`,
                },
              },
              successCondition: 'result[0] < 0.05',
            },
          ],
        },
      },
    },
  },
});

describe('a kill -9 in the middle of a canary', () => {
  it('resumes at the step it was in: measured on, promoted, deployed once', async () => {
    // Prepare: a child runtime that dies right after its first measurement; the first push deploys directly
    const repo = gitRepository(sampleFiles());
    const stateDir = tempDir('kill-mid-canary');
    cleanups.push(
      () => removeDir(repo.dir),
      () => removeDir(stateDir),
    );
    const child = await startChildRuntime(
      {
        port: 0,
        stateDir,
        config,
        webhookSecret: SECRET,
        logLevel: 'SILENT',
        replayEveryMs: 0,
        approvalKeeperEveryMs: 0,
        kubernetes: 'simulated',
        simulatedCluster: { tickMs: 20, timeScale: 0.02 },
        clock: 'virtual',
      },
      { killAfter: { type: 'TaskStateExited', state: 'Analyze' } },
    );
    const first = await deliver(child, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: repo.sha }));
    const sfn = sfnClient(child);
    await waitFor(
      'the first run',
      async () => {
        const e = await sfn.send(new DescribeExecutionCommand({ executionArn: String(first.body['executionArn']) }));
        return e.status === 'RUNNING' ? undefined : e.status;
      },
      60_000,
    );

    // Act: the second push goes out as a canary; the runtime dies mid-step; a new one starts on its state
    const second = repo.commit({ 'service.txt': 'hello, canary\n' }, 'Second');
    const answer = await deliver(child, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha: second }));
    const ended = await child.exited;
    const runtime: Runtime = await startTestRuntime({ stateDir, config: config as never, clock: 'virtual' });
    cleanups.push(() => runtime.stop());
    const arn = String(answer.body['executionArn']);
    const execution = await waitFor(
      'the resumed canary',
      () => {
        const record = runtime.stores.executions.getExecution(arn);
        return record && record.status !== 'RUNNING' ? record : undefined;
      },
      60_000,
    );

    // Assess
    expect(ended.signal).toBe('SIGKILL');
    expect(execution.status, `${execution.error}: ${execution.cause}`).toBe('SUCCEEDED');
    const entered = runtime.stores.executions
      .history(arn)
      .filter((e) => e.type === 'TaskStateEntered')
      .map((e) => (e as { stateEnteredEventDetails?: { name?: string } }).stateEnteredEventDetails?.name);
    expect(entered.filter((n) => n === 'Deploy')).toHaveLength(1);
    expect(entered.filter((n) => n === 'Analyze')).toHaveLength(2);
    expect(entered.filter((n) => n === 'NextStep')).toHaveLength(1);
    expect(runtime.cluster?.object('apps/v1', 'Deployment', NAME, `${NAME}-canary`)).toBeNull();
  }, 120_000);
});
