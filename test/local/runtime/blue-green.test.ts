import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../local/runtime';
import type { ExecutionRecord } from '../../../local/store';
import { manifests, REPOSITORY, sampleFiles } from './sample';
import { deliver, githubPush, gitRepository, pipelineConfig, removeDir, startTestRuntime, waitFor } from './support';

/**
 * Blue-green end to end on the local runtime (issue 18, ADR 0067, 0068): signed pushes of a real repository, the real
 * functions, the simulated cluster, the post-promotion analysis reading the runtime's metrics source. A version is
 * previewed, the active Service switched to it, measured while the old pods are kept, then promoted; a version whose
 * analysis fails after the switch is rolled back within the scale-down window (the switched step, which holds
 * `scaleDownDelaySeconds` or its measurements, whichever is longer): the Service selects the old pods again, which
 * were never scaled down. The engine's clock is virtual: Waits take no time, and the run's dates follow it.
 */

const NAME = 'hello';

const BLUE_GREEN = {
  type: 'blueGreen',
  previewSeconds: 30,
  scaleDownDelaySeconds: 300,
  postPromotionAnalysis: {
    interval: 30,
    count: 2,
    metrics: [
      {
        name: 'errors',
        provider: {
          prometheus: {
            address: 'http://prometheus.stepline.local',
            query: `stepline_demo_http_error_ratio{namespace="${NAME}",deployment="${NAME}",track="preview"}`,
          },
        },
        successCondition: 'result[0] < 0.05',
      },
    ],
  },
};

/** The sample's Namespace and Deployment, and the Service that takes the traffic. */
const APP = `${manifests(NAME)}---
apiVersion: v1
kind: Service
metadata:
  name: ${NAME}
  namespace: ${NAME}
spec:
  selector:
    app: ${NAME}
  ports:
    - port: 80
      targetPort: 8080
`;

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
        strategy: BLUE_GREEN,
      },
    },
  });
  runtime = await startTestRuntime({ config: config as never, clock: 'virtual' });
  repo = gitRepository({ ...sampleFiles(), 'deploy/staging/app.yaml': APP });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  if (runtime) removeDir(runtime.stateDir);
  if (repo) removeDir(repo.dir);
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
    90_000,
  );
}

type Json = Record<string, unknown>;

function deployment(name: string): { replicas: number; image: string; generation: number } | null {
  const live = runtime.cluster?.object('apps/v1', 'Deployment', NAME, name) as
    | {
        metadata: { generation: number };
        spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
      }
    | null
    | undefined;
  if (!live) return null;
  return {
    replicas: live.spec.replicas,
    image: live.spec.template.spec.containers[0]?.image.split('@')[1] ?? '',
    generation: live.metadata.generation,
  };
}

function selector(): Json | undefined {
  const live = runtime.cluster?.object('v1', 'Service', NAME, NAME) as { spec?: { selector?: Json } } | null;
  return live?.spec?.selector;
}

function descriptions(sha: string): string[] {
  return runtime.stores.statuses
    .list({ provider: 'github', repository: REPOSITORY, sha })
    .filter((s) => s.context === 'stepline/deploy/staging')
    .map((s) => s.description ?? '')
    .reverse();
}

describe('blue-green on the local runtime', () => {
  let second = '';

  it('previews the new version, switches the Service to it, measures it, then promotes it', async () => {
    // Act: v1 deployed directly (nothing runs yet), v2 blue-green
    const first = await push(repo.sha);
    second = repo.commit({ 'service.txt': 'hello, blue-green\n' }, 'Second');
    const promoted = await push(second);

    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(promoted.status).toBe('SUCCEEDED');
    expect(descriptions(second)).toEqual(
      expect.arrayContaining([
        'deploying to staging: preview · holding 30 s',
        'deploying to staging: switched · 0/2 checks passed',
        'deploying to staging: switched · 2/2 checks passed',
        'deployed to staging',
      ]),
    );
    expect(deployment(NAME)).toMatchObject({ replicas: 2, image: digestOf(second) });
    expect(deployment(`${NAME}-preview`)).toBeNull();
    expect(selector()).toEqual({ app: NAME, 'stepline.dev/track': 'stable' });
    // On the engine's clock: the preview held 30 s and the switched step the whole scale-down window (300 s, longer
    // than its two measurements) before the promotion.
    expect((promoted.stopDate ?? 0) - promoted.startDate).toBeGreaterThanOrEqual(330_000);
  }, 180_000);

  it('rolls back within the window when the analysis after the switch fails: the kept pods take the traffic again', async () => {
    // Prepare: the preview's error ratio raised
    const before = deployment(NAME);
    runtime.metricsSource.setErrorRatio(NAME, NAME, 'preview', 0.3);
    const third = repo.commit({ 'service.txt': 'hello, broken blue-green\n' }, 'Third');

    // Act
    const rolledBack = await push(third);
    runtime.metricsSource.setErrorRatio(NAME, NAME, 'preview', 0.01);

    // Assess
    expect(rolledBack.status).toBe('FAILED');
    expect(descriptions(third)).toContain('deploying to staging: switched · 0/2 checks passed');
    expect(descriptions(third).at(-1)).toMatch(/^deploy to staging failed.*switched analysis failed/);
    // The old pods were kept through the switch (the Deployment never changed), and are selected again.
    expect(before).toMatchObject({ replicas: 2, image: digestOf(second) });
    expect(deployment(NAME)).toEqual(before);
    expect(selector()).toEqual({ app: NAME, 'stepline.dev/track': 'stable' });
    expect(deployment(`${NAME}-preview`)).toMatchObject({ replicas: 0, image: digestOf(third) });
    // Within the window: the first failed measurement came before the old pods were due to go.
    expect((rolledBack.stopDate ?? 0) - rolledBack.startDate).toBeLessThan(330_000);
  }, 180_000);
});
