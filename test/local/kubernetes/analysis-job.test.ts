import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisMetric } from '../../../core/config/strategy';
import type { MeasureContext } from '../../../core/deploy/analysis/contracts';
import { jobName, jobProvider } from '../../../core/deploy/analysis/job';
import { environment, startCluster, type TestCluster } from './support';

/**
 * The Kubernetes Job provider (ADR 0068) against the simulated API server, which runs no container: the test plays
 * the Job controller, writing the Job's status with kubectl as a finished Job would have it.
 */

const run = promisify(execFile);
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
  await run('kubectl', ['--kubeconfig', cluster.kubeconfig, 'create', 'namespace', 'shop']);
});
afterAll(async () => {
  await cluster.stop();
});

const METRIC: AnalysisMetric = {
  name: 'smoke',
  provider: {
    job: {
      spec: {
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'smoke', image: 'curlimages/curl', args: ['web'] }] },
        },
      },
      timeoutSeconds: 600,
    },
  },
};

function context(round: number, executionName = 'shop-main-3f78685'): MeasureContext {
  return {
    round,
    event: {
      executionName,
      environment: environment(),
      step: {
        strategy: 'canary',
        index: 0,
        total: 1,
        label: 'canary 10%',
        weight: 10,
        replicas: { canary: 1, stable: 9 },
        pauseSeconds: 0,
        analysis: null,
        waits: null,
        cloudwatch: null,
        workloads: { canary: 'web-canary', stable: 'web' },
        router: 'replicas',
      },
      tally: null,
      cloudwatch: null,
    },
  };
}

async function finish(name: string, status: Record<string, unknown>): Promise<void> {
  await run('kubectl', [
    '--kubeconfig',
    cluster.kubeconfig,
    '-n',
    'shop',
    'patch',
    'job',
    name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
}

describe('the Kubernetes Job provider', () => {
  it('creates the round’s Job once, waits while it runs, and passes when it succeeds', async () => {
    // Prepare
    const provider = jobProvider((await cluster.ports()).cluster, () => new Date());

    // Act
    const started = await provider.measure(METRIC, context(0));
    const again = await provider.measure(METRIC, context(0));
    await finish(jobName(context(0), 'smoke'), { succeeded: 1 });
    const done = await provider.measure(METRIC, context(0));

    // Assess
    expect(started).toMatchObject({ kind: 'pending' });
    expect(again).toMatchObject({ kind: 'pending' });
    expect(done).toEqual({ kind: 'value', result: { succeeded: true } });
    const job = cluster.server.object('batch/v1', 'Job', 'shop', jobName(context(0), 'smoke')) as {
      spec: { backoffLimit: number; template: { spec: { containers: { image: string }[] } } };
      metadata: { labels: Record<string, string> };
    };
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.metadata.labels).toMatchObject({
      'stepline.dev/analysis': 'smoke',
      'stepline.dev/environment': 'production',
    });
  });

  it('gives a failed Job as a result that is not a success, and a Job past its timeout as an error run', async () => {
    // Prepare
    const cluster1 = (await cluster.ports()).cluster;
    const now = new Date();
    const provider = jobProvider(cluster1, () => now);
    const late = jobProvider(cluster1, () => new Date(now.getTime() + 3_600_000));
    await provider.measure(METRIC, context(1));
    await finish(jobName(context(1), 'smoke'), {
      failed: 1,
      conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }],
    });
    await provider.measure(METRIC, context(2));

    // Act
    const failed = await provider.measure(METRIC, context(1));
    const overdue = await late.measure(METRIC, context(2));

    // Assess
    expect(failed).toEqual({ kind: 'value', result: { succeeded: false, reason: 'BackoffLimitExceeded' } });
    expect(overdue).toMatchObject({ kind: 'error', message: expect.stringContaining('did not finish within 600 s') });
  });
});
