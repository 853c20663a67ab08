import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeployResult, RolloutEvent } from '../../../core/deploy/contracts';
import { StepReady } from '../../../core/deploy/errors';
import { checkRollout, deploy, rollback, step } from '../../../core/deploy/service';
import type { RouteStrategy } from '../../../core/deploy/strategies/plan';
import { routeStrategy } from '../../../core/deploy/strategies/plan';
import type { RouteEnvironment } from '../../../core/intake/types';
import { deployEvent, environment, REPOSITORY, startCluster, type TestCluster } from './support';

/**
 * Canary and blue-green rollouts against the simulated API server (ADR 0067): the Deployments each step leaves,
 * promotion, abort, and a canary left behind by a crashed run.
 */

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const V1 = digest('1');
const V2 = digest('2');
const V3 = digest('3');

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: api
          image: shop/api:latest
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

let cluster: TestCluster;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stepline-strategies-'));
  await writeFile(join(dir, 'app.yaml'), MANIFESTS);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  cluster = await startCluster();
});
afterEach(async () => {
  await cluster.stop();
});

function withStrategy(config: Parameters<typeof routeStrategy>[0]): RouteEnvironment {
  const base = environment({ manifests: '.' });
  const strategy = routeStrategy(config, base.rollout) as RouteStrategy | undefined;
  return { ...base, ...(strategy ? { strategy } : {}) };
}

const CANARY = withStrategy({
  type: 'canary',
  steps: [
    { weight: 10, pauseSeconds: 0 },
    { weight: 50, pauseSeconds: 0 },
  ],
});
const BLUE_GREEN = withStrategy({ type: 'blueGreen', previewSeconds: 0, scaleDownDelaySeconds: 30 });

async function deployImage(env: RouteEnvironment, image: string): Promise<DeployResult> {
  const ports = await cluster.ports();
  return deploy(
    deployEvent({
      environment: env,
      image: { repository: REPOSITORY, digest: image },
      manifestsLocation: `file://${dir}`,
    }),
    ports,
  );
}

/** Checks until the rollout is done: 'ready' when a step's replicas are (StepReady), 'done' when promoted. */
async function settle(env: RouteEnvironment, result: DeployResult): Promise<'ready' | 'done'> {
  const ports = await cluster.ports();
  const event: RolloutEvent = {
    executionName: 'shop-main-3f78685',
    environment: env,
    watch: result.watch,
    deadline: result.rollout.deadline,
    revision: result.revision,
    step: result.step ?? null,
    finalize: result.finalize ?? null,
  };
  for (let i = 0; i < 600; i += 1) {
    try {
      const check = await checkRollout(event, ports);
      if (check.state === 'done') return 'done';
      if (check.state === 'failed') throw new Error(check.reason);
    } catch (error) {
      if (error instanceof StepReady) return 'ready';
      throw error;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the rollout did not settle');
}

async function setStep(env: RouteEnvironment, revision: number, index: number): Promise<DeployResult> {
  return step(
    { action: 'step', executionName: 'shop-main-3f78685', environment: env, revision, index },
    await cluster.ports(),
  );
}

type Json = Record<string, unknown>;
async function deployment(name: string): Promise<{ replicas: number; image: string; track: string } | null> {
  const live = (await (
    await cluster.ports()
  ).cluster.get({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name,
    namespace: 'shop',
  })) as Json | null;
  if (!live) return null;
  const spec = live['spec'] as Json;
  const template = spec['template'] as { metadata: { labels: Json }; spec: { containers: { image: string }[] } };
  return {
    replicas: spec['replicas'] as number,
    image: template.spec.containers[0]?.image.split('@')[1] ?? '',
    track: String(template.metadata.labels['stepline.dev/track'] ?? ''),
  };
}

async function serviceSelector(name: string): Promise<Json | undefined> {
  const live = await (await cluster.ports()).cluster.get({
    apiVersion: 'v1',
    kind: 'Service',
    name,
    namespace: 'shop',
  });
  return (live?.['spec'] as Json | undefined)?.['selector'] as Json | undefined;
}

describe('a canary rollout by replicas', () => {
  it('deploys the first revision directly, then steps a canary up and promotes it', async () => {
    // Prepare: a first revision, rolled out directly (nothing to compare with)
    const first = await deployImage(CANARY, V1);
    expect(first.strategy).toMatchObject({ type: 'canary', mode: 'direct' });
    expect(first.step).toBeNull();
    expect(await settle(CANARY, first)).toBe('done');

    // Act: the second revision starts at step 0
    const started = await deployImage(CANARY, V2);
    const atStart = { canary: await deployment('web-canary'), stable: await deployment('web') };
    const ready = await settle(CANARY, started);
    const half = await setStep(CANARY, started.revision, 1);
    const atHalf = { canary: await deployment('web-canary'), stable: await deployment('web') };
    await settle(CANARY, half);
    const promoted = await setStep(CANARY, started.revision, 2);
    const done = await settle(CANARY, promoted);

    // Assess
    expect(started.strategy).toMatchObject({ mode: 'steps' });
    expect(started.step).toMatchObject({ index: 0, label: 'canary 10%', replicas: { canary: 1, stable: 3 } });
    expect(atStart).toEqual({
      canary: { replicas: 1, image: V2, track: 'canary' },
      stable: { replicas: 3, image: V1, track: 'stable' },
    });
    expect(ready).toBe('ready');
    expect(atHalf).toEqual({
      canary: { replicas: 2, image: V2, track: 'canary' },
      stable: { replicas: 2, image: V1, track: 'stable' },
    });
    expect(promoted.step).toBeNull();
    expect(done).toBe('done');
    expect(await deployment('web')).toEqual({ replicas: 4, image: V2, track: 'stable' });
    expect(await deployment('web-canary')).toBeNull();
    const revisions = await (await cluster.ports()).revisions.list('shop', 'production');
    expect(revisions.map((r) => [r.number, r.status])).toEqual([
      [1, 'deployed'],
      [2, 'deployed'],
    ]);
  });

  it('aborts: the stable Deployment back at N with its image, the canary at 0', async () => {
    // Prepare
    await settle(CANARY, await deployImage(CANARY, V1));
    const started = await deployImage(CANARY, V2);
    await settle(CANARY, started);

    // Act
    const rolledBack = await rollback(
      { executionName: 'shop-main-3f78685', environment: CANARY, failedRevision: started.revision, reason: 'errors' },
      await cluster.ports(),
    );

    // Assess
    expect(await deployment('web')).toEqual({ replicas: 4, image: V1, track: 'stable' });
    expect(await deployment('web-canary')).toMatchObject({ replicas: 0, image: V2 });
    expect(rolledBack.applied).toContainEqual(expect.objectContaining({ name: 'web-canary' }));
  });

  it('adopts a canary a crashed run left, and a rolling deploy removes it', async () => {
    // Prepare: a run that set step 0 and died
    await settle(CANARY, await deployImage(CANARY, V1));
    await settle(CANARY, await deployImage(CANARY, V2));

    // Act: the next run, then a run of the environment without a strategy
    const next = await deployImage(CANARY, V3);
    const adopted = await (await cluster.ports()).cluster.list('apps/v1', 'Deployment', 'shop', 'app=web');
    const rolling = environment({ manifests: '.' });
    await deployImage(rolling, V3);

    // Assess
    expect(next.strategy?.mode).toBe('steps');
    expect(adopted.map((d) => d.metadata.name).sort()).toEqual(['web', 'web-canary']);
    expect(await deployment('web-canary')).toBeNull();
  });
});

describe('a blue-green rollout', () => {
  async function previewed(): Promise<DeployResult> {
    await settle(BLUE_GREEN, await deployImage(BLUE_GREEN, V1));
    const started = await deployImage(BLUE_GREEN, V2);
    expect(await settle(BLUE_GREEN, started)).toBe('ready');
    return started;
  }

  it('previews, switches the active Service, promotes and removes the preview', async () => {
    // Prepare
    const started = await previewed();
    const before = await serviceSelector('web');

    // Act
    const switched = await setStep(BLUE_GREEN, started.revision, 1);
    const during = await serviceSelector('web');
    await settle(BLUE_GREEN, switched);
    const promoted = await setStep(BLUE_GREEN, started.revision, 2);
    const done = await settle(BLUE_GREEN, promoted);

    // Assess
    expect(started.step).toMatchObject({ label: 'preview', weight: 0, replicas: { canary: 4, stable: 4 } });
    expect(before).toEqual({ app: 'web', 'stepline.dev/track': 'stable' });
    expect(await serviceSelector('web-preview')).toBeUndefined();
    expect(during).toEqual({ app: 'web', 'stepline.dev/track': 'preview' });
    expect(done).toBe('done');
    expect(await serviceSelector('web')).toEqual({ app: 'web', 'stepline.dev/track': 'stable' });
    expect(await deployment('web')).toEqual({ replicas: 4, image: V2, track: 'stable' });
    expect(await deployment('web-preview')).toBeNull();
  });

  it('rolls back after the switch: the Service selects the old pods again, which were kept', async () => {
    // Prepare
    const started = await previewed();
    await settle(BLUE_GREEN, await setStep(BLUE_GREEN, started.revision, 1));

    // Act
    await rollback(
      { executionName: 'shop-main-3f78685', environment: BLUE_GREEN, failedRevision: started.revision, reason: 'x' },
      await cluster.ports(),
    );

    // Assess: the selector the last good revision recorded (its deploy was direct, so without the track), with the
    // preview at 0 it selects the old pods only
    expect(await serviceSelector('web')).toEqual({ app: 'web' });
    expect(await deployment('web')).toEqual({ replicas: 4, image: V1, track: 'stable' });
    expect(await deployment('web-preview')).toMatchObject({ replicas: 0, image: V2 });
  });
});
