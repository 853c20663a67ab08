import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { REPOSITORY, sampleFiles } from './sample';
import { deliver, githubPush, gitRepository, pipelineConfig, removeDir, startTestRuntime, waitFor } from './support';

/**
 * A canary end to end on the local runtime (ADR 0067, 0068): signed pushes of a real repository, the real functions,
 * the simulated cluster, the analysis reading the runtime's metrics source through both providers (Prometheus in
 * process, CloudWatch through the workflow's GetMetricData Task). The engine's clock is virtual: Waits take no time.
 */

const NAME = 'hello';
const SELECTOR = `{namespace="${NAME}",deployment="${NAME}",track="canary"}`;

const CANARY = {
  type: 'canary',
  steps: [
    { weight: 25, pauseSeconds: 60 },
    { weight: 50, pauseSeconds: 60 },
  ],
  analysis: {
    interval: 30,
    count: 2,
    metrics: [
      {
        name: 'errors',
        provider: {
          prometheus: {
            address: 'http://prometheus.stepline.local',
            query: `stepline_demo_http_error_ratio${SELECTOR}`,
          },
        },
        successCondition: 'result[0] < 0.05',
      },
      {
        name: 'errors-cloudwatch',
        provider: {
          cloudwatch: {
            metricDataQueries: [
              {
                Id: 'ratio',
                MetricStat: {
                  Metric: {
                    MetricName: 'stepline_demo_http_error_ratio',
                    Dimensions: [
                      { Name: 'namespace', Value: NAME },
                      { Name: 'deployment', Value: NAME },
                      { Name: 'track', Value: 'canary' },
                    ],
                  },
                  Period: 60,
                  Stat: 'Average',
                },
              },
            ],
          },
        },
        successCondition: '$max(result[0].Values) < 0.05',
      },
    ],
  },
};

let runtime: Runtime;
let repo: ReturnType<typeof gitRepository>;

beforeAll(async () => {
  const config = pipelineConfig({
    repository: REPOSITORY,
    environments: {
      staging: {
        cluster: { type: 'kubeconfig' },
        namespace: NAME,
        clusterScopedKinds: ['Namespace'],
        manifests: 'staging',
        rollout: { timeoutSeconds: 60, pollSeconds: 2 },
        strategy: CANARY,
      },
    },
  });
  runtime = await startTestRuntime({ config: config as never, clock: 'virtual' });
  repo = gitRepository(sampleFiles());
});

afterAll(async () => {
  await runtime.stop();
  removeDir(repo.dir);
});

const digestOf = (sha: string) => `sha256:${createHash('sha256').update(sha).digest('hex')}`;

async function push(sha: string): Promise<ExecutionRecord> {
  const answer = await deliver(runtime, githubPush({ repository: REPOSITORY, cloneUrl: repo.dir, sha }));
  const arn = String(answer.body['executionArn']);
  return waitFor(
    `the end of ${arn}`,
    () => {
      const e = runtime.stores.executions.getExecution(arn);
      return e && e.status !== 'RUNNING' ? e : undefined;
    },
    60_000,
  );
}

function deployment(name: string): { replicas: number; image: string } | null {
  const live = runtime.cluster?.object('apps/v1', 'Deployment', NAME, name) as
    | { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } }
    | undefined;
  if (!live) return null;
  return { replicas: live.spec.replicas, image: live.spec.template.spec.containers[0]?.image.split('@')[1] ?? '' };
}

function descriptions(sha: string): string[] {
  return runtime.stores.statuses
    .list({ provider: 'github', repository: REPOSITORY, sha })
    .filter((s) => s.context === 'stepline/deploy/staging')
    .map((s) => s.description ?? '')
    .reverse();
}

describe('a canary on the local runtime', () => {
  it('deploys the first version directly, then promotes the next through its steps, and aborts a bad one', async () => {
    // Act: v1 (direct), v2 (canary, healthy), v3 (canary, the canary's error ratio raised)
    const first = await push(repo.sha);
    const second = repo.commit({ 'service.txt': 'hello, canary\n' }, 'Second');
    const promoted = await push(second);
    const afterPromotion = { web: deployment(NAME), canary: deployment(`${NAME}-canary`) };
    runtime.metricsSource.setErrorRatio(NAME, NAME, 'canary', 0.3);
    const third = repo.commit({ 'service.txt': 'hello, broken canary\n' }, 'Third');
    const aborted = await push(third);

    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(promoted.status).toBe('SUCCEEDED');
    expect(descriptions(second)).toEqual(
      expect.arrayContaining([
        'deploying to staging: canary 25% · 0/2 checks passed',
        'deploying to staging: canary 25% · 2/2 checks passed',
        'deploying to staging: canary 50% · 2/2 checks passed',
        'deployed to staging',
      ]),
    );
    expect(afterPromotion).toEqual({ web: { replicas: 2, image: digestOf(second) }, canary: null });
    expect(aborted.status).toBe('FAILED');
    expect(descriptions(third).at(-1)).toMatch(/^deploy to staging failed.*canary 25% analysis failed/);
    // The abort: the stable Deployment back at N with the promoted image, the canary at 0.
    expect(deployment(NAME)).toEqual({ replicas: 2, image: digestOf(second) });
    expect(deployment(`${NAME}-canary`)).toEqual({ replicas: 0, image: digestOf(third) });
  });

  it('serves the service metrics as Prometheus text, and queries over them', async () => {
    // Act
    const text = await (await fetch(`${runtime.url}/metrics/services/${NAME}/${NAME}`)).text();
    const query = await fetch(
      `${runtime.url}/prometheus/api/v1/query?query=${encodeURIComponent(`stepline_demo_http_error_ratio${SELECTOR}`)}`,
    );

    // Assess
    expect(text).toContain(
      `stepline_demo_http_error_ratio{namespace="${NAME}",deployment="${NAME}",track="canary"} 0.3`,
    );
    expect(await query.json()).toMatchObject({
      status: 'success',
      data: { resultType: 'vector', result: [{ value: [expect.any(Number), '0.3'] }] },
    });
  });
});
