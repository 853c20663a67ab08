import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalGitRepository } from '../../../adapters/local/gitops-git';
import type { GitOpsDelivery } from '../../../core/config/delivery';
import type { RolloutEvent, RolloutResult, WatchedObject } from '../../../core/deploy/contracts';
import { type Clock, systemClock } from '../../../core/deploy/ports';
import type { KubernetesObject } from '../../../core/deploy/types';
import { checkConvergence, deliver, type GitOpsPorts, revertDelivery } from '../../../core/gitops/service';
import { GitOpsStandInController } from '../../../local/services/gitops/controller';
import { DIGEST_V1, deployEvent, environment, REPOSITORY, startCluster, type TestCluster } from '../kubernetes/support';

let cluster: TestCluster;
let controller: GitOpsStandInController;

const NAMESPACE = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n';
const deployment = (image: string, marker = '') =>
  [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: api',
    '  namespace: shop',
    'spec:',
    '  replicas: 2',
    '  selector:',
    '    matchLabels: {app: api}',
    '  template:',
    '    metadata:',
    '      labels: {app: api}',
    '    spec:',
    '      containers:',
    '        - name: api',
    `          image: ${image}${marker}`,
    '',
  ].join('\n');
const KUSTOMIZATION = [
  '# production overlay',
  'resources:',
  '  - namespace.yaml',
  '  - deployment.yaml',
  'images:',
  '  - name: shop/api',
  `    newName: ${REPOSITORY}`,
  '    newTag: v1 # first release',
  '',
].join('\n');

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['--git-dir', dir, ...args], { encoding: 'utf8' });
}

async function settle(
  event: RolloutEvent,
  ports: { cluster: Parameters<typeof checkConvergence>[1]['cluster']; clock: Clock; repository: LocalGitRepository },
): Promise<RolloutResult> {
  // The stand-in syncs on each reconcile; the simulated workload controllers step every 10 ms.
  let result: RolloutResult = { state: 'waiting' } as RolloutResult;
  for (let i = 0; i < 300 && result.state === 'waiting'; i += 1) {
    await controller.reconcile();
    result = await checkConvergence(event, ports);
    if (result.state === 'waiting') await new Promise((r) => setTimeout(r, 10));
  }
  return result;
}

const liveImage = (object: KubernetesObject | null) =>
  (object?.['spec'] as { template: { spec: { containers: { image: string }[] } } } | undefined)?.template.spec
    .containers[0]?.image ?? null;

beforeEach(async () => {
  cluster = await startCluster();
  controller = new GitOpsStandInController(cluster.server);
  controller.installCrds();
});
afterEach(async () => {
  await controller.stop();
  await cluster.stop();
});

async function setUp(files: Record<string, string>, controllerObject: KubernetesObject) {
  const gitDir = join(cluster.dir, 'deploy.git');
  const repository = await LocalGitRepository.create(gitDir, 'main', files, 'deploy');
  const ports = await cluster.ports();
  await ports.cluster.apply(
    JSON.parse(JSON.stringify(controllerObject).replaceAll('GITDIR', `file://${gitDir}`)) as KubernetesObject,
    { fieldManager: 'test', force: true },
  );
  const gitops: GitOpsPorts = {
    repository,
    clock: systemClock,
    runLink: (name) => `http://127.0.0.1:3000/runs/${name}`,
  };
  return { gitDir, repository, ports, gitops };
}

function rolloutEvent(
  env: ReturnType<typeof environment>,
  watch: readonly WatchedObject[],
  deadline: string,
): RolloutEvent {
  return { executionName: 'shop-main-3f78685', environment: env, watch, deadline, revision: 0 };
}

describe('a GitOps delivery to Argo CD in commit mode, on the simulated cluster', () => {
  const delivery: GitOpsDelivery = {
    type: 'gitops',
    repository: { provider: 'local', name: 'deploy' },
    branch: 'main',
    path: 'apps/shop',
    format: { type: 'kustomize', image: 'shop/api' },
    mode: 'commit',
    controller: { kind: 'Application', name: 'shop-production' },
  };
  const application = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'shop-production', namespace: 'argocd' },
    spec: {
      source: { repoURL: 'GITDIR', targetRevision: 'main', path: 'apps/shop' },
      destination: { namespace: 'shop' },
    },
  };
  const files = {
    'apps/shop/kustomization.yaml': KUSTOMIZATION,
    'apps/shop/namespace.yaml': NAMESPACE,
    'apps/shop/deployment.yaml': deployment('shop/api'),
  };

  it('commits the digest, waits for Synced and Healthy at that commit and the rollout, then reverts on failure', async () => {
    // Prepare: the namespace of the Application, then the first sync at v1.
    const { gitDir, repository, ports, gitops } = await setUp(files, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'argocd' },
    } as KubernetesObject);
    await ports.cluster.apply(JSON.parse(JSON.stringify(application).replace('GITDIR', `file://${gitDir}`)), {
      fieldManager: 'test',
      force: true,
    });
    const env = environment({ delivery });
    const first = await repository.head('main');

    // Act: deliver.
    const result = await deliver(deployEvent({ environment: env }), gitops);

    // Assess: one commit on main, the file spliced, the message says from what to what and links the run.
    const commit = result.watch[0]?.gitops?.commit ?? '';
    expect(await repository.head('main')).toBe(commit);
    expect(await repository.firstParent(commit)).toBe(first);
    expect(await repository.readFile(commit, 'apps/shop/kustomization.yaml')).toBe(
      KUSTOMIZATION.replace('    newTag: v1 # first release\n', `    digest: ${DIGEST_V1}\n`),
    );
    const message = git(gitDir, 'log', '-1', '--format=%B', commit);
    expect(message).toContain(`deploy(production): api ${REPOSITORY}:v1 → sha256:aaaaaaaaaaaa…`);
    expect(message).toContain(
      `- apps/shop/kustomization.yaml: images[shop/api]: ${REPOSITORY}:v1 → ${REPOSITORY}@${DIGEST_V1}`,
    );
    expect(message).toContain('Run: http://127.0.0.1:3000/runs/shop-main-3f78685');
    expect(message).toContain('Stepline-Execution: shop-main-3f78685');

    // Act: converge.
    const deadline = new Date(Date.now() + 60_000).toISOString();
    const converged = await settle(rolloutEvent(env, result.watch, deadline), { ...ports, repository });

    // Assess: done only with the Application at the commit and the Deployment rolled out with the digest.
    expect(converged.state).toBe('done');
    expect(converged.objects.map((o) => `${o.kind}/${o.name}: ${o.state}`)).toEqual([
      'Application/shop-production: done',
      'Deployment/api: done',
    ]);
    expect(converged.objects[0]?.reason).toBe(
      `Application "shop-production" is Synced and Healthy at ${commit.slice(0, 12)}`,
    );
    expect(
      liveImage(await ports.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'shop' })),
    ).toBe(`${REPOSITORY}@${DIGEST_V1}`);

    // A retried deploy invocation finds its commit and writes nothing more.
    const again = await deliver(deployEvent({ environment: env }), gitops);
    expect(again.watch[0]?.gitops?.commit).toBe(commit);
    expect(await repository.head('main')).toBe(commit);

    // Act: the workflow rolls back (say, the analysis failed): a revert commit.
    const reverted = await revertDelivery(
      { executionName: 'shop-main-3f78685', environment: env, failedRevision: 0, reason: 'RolloutFailed: test' },
      gitops,
    );

    // Assess: the file is back byte for byte, the cluster converges on the revert with the old image.
    const revert = reverted.commit;
    expect(await repository.firstParent(revert)).toBe(commit);
    expect(await repository.readFile(revert, 'apps/shop/kustomization.yaml')).toBe(KUSTOMIZATION);
    expect(git(gitDir, 'log', '-1', '--format=%B', revert)).toContain(
      `This reverts commit ${commit}: RolloutFailed: test`,
    );
    const back = await settle(rolloutEvent(env, reverted.watch, deadline), { ...ports, repository });
    expect(back.state).toBe('done');

    // The run redriven after its revert writes again, on top of the revert.
    const redriven = await deliver(deployEvent({ environment: env }), gitops);
    expect(await repository.firstParent(redriven.watch[0]?.gitops?.commit ?? '')).toBe(revert);
    expect(
      liveImage(await ports.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'shop' })),
    ).toBe(`${REPOSITORY}:v1`);
  });

  it('fails the check at its deadline while the Application is not at the commit, and refuses to revert over a later change', async () => {
    const { gitDir, repository, ports, gitops } = await setUp(files, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'argocd' },
    } as KubernetesObject);
    await ports.cluster.apply(JSON.parse(JSON.stringify(application).replace('GITDIR', `file://${gitDir}`)), {
      fieldManager: 'test',
      force: true,
    });
    const env = environment({ delivery });
    const result = await deliver(deployEvent({ environment: env }), gitops);
    // No reconcile: the Application has no status; past the deadline, the check fails and names why.
    const late: Clock = { now: () => new Date(Date.now() + 3_600_000) };
    const event = { ...rolloutEvent(env, result.watch, new Date().toISOString()), onFailure: 'throw' as const };
    await expect(checkConvergence(event, { ...ports, clock: late, repository })).rejects.toThrow(
      /Delivery to production failed: The cluster did not converge by its deadline .*Application "shop-production" is Unknown at no revision/,
    );

    // Someone else changes the file after Stepline's write: the revert refuses instead of undoing their change.
    const head = await repository.head('main');
    await repository.commit({
      branch: 'main',
      parent: head,
      files: [{ path: 'apps/shop/kustomization.yaml', content: `${KUSTOMIZATION}# edited\n` }],
      message: 'edit',
    });
    await expect(
      revertDelivery({ executionName: 'shop-main-3f78685', environment: env, failedRevision: 0, reason: 'x' }, gitops),
    ).rejects.toThrow(/apps\/shop\/kustomization.yaml in local:deploy changed after/);
  });
});

describe('a GitOps delivery to Flux with image-policy markers', () => {
  it('sets the marked line, and converges when Ready is True with lastAppliedRevision at the commit', async () => {
    const marker = ' # {"$imagepolicy": "flux-system:api"}';
    const files = {
      'clusters/prod/namespace.yaml': NAMESPACE,
      'clusters/prod/deployment.yaml': deployment(`${REPOSITORY}:v1`, marker),
    };
    const { gitDir, repository, ports, gitops } = await setUp(files, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'flux-system' },
    } as KubernetesObject);
    await ports.cluster.apply(
      {
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'GitRepository',
        metadata: { name: 'deploy', namespace: 'flux-system' },
        spec: { url: `file://${gitDir}`, ref: { branch: 'main' } },
      } as KubernetesObject,
      { fieldManager: 'test', force: true },
    );
    await ports.cluster.apply(
      {
        apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
        kind: 'Kustomization',
        metadata: { name: 'apps', namespace: 'flux-system' },
        spec: {
          path: './clusters/prod',
          sourceRef: { kind: 'GitRepository', name: 'deploy' },
          targetNamespace: 'shop',
        },
      } as KubernetesObject,
      { fieldManager: 'test', force: true },
    );
    const delivery: GitOpsDelivery = {
      type: 'gitops',
      repository: { provider: 'local', name: 'deploy' },
      branch: 'main',
      path: 'clusters/prod',
      format: { type: 'flux', policy: 'flux-system:api' },
      mode: 'commit',
      controller: { kind: 'Kustomization', name: 'apps' },
    };
    const env = environment({ delivery });

    const result = await deliver(deployEvent({ environment: env }), gitops);
    const commit = result.watch[0]?.gitops?.commit ?? '';
    expect(await repository.readFile(commit, 'clusters/prod/deployment.yaml')).toBe(
      deployment(`${REPOSITORY}@${DIGEST_V1}`, marker),
    );
    expect(await repository.readFile(commit, 'clusters/prod/namespace.yaml')).toBe(NAMESPACE);

    const converged = await settle(rolloutEvent(env, result.watch, new Date(Date.now() + 60_000).toISOString()), {
      ...ports,
      repository,
    });
    expect(converged.reason).toBe('2 object(s) rolled out');
    expect(converged.objects[0]?.reason).toBe(`Kustomization "apps" is Ready at main@sha1:${commit}`);
    expect(converged.objects.map((o) => o.kind)).toEqual(['Kustomization', 'Deployment']);

    // The revert restores the marked line, and the Kustomization converges back on the revert commit.
    const reverted = await revertDelivery(
      { executionName: 'shop-main-3f78685', environment: env, failedRevision: 0, reason: 'HealthCheckFailed' },
      gitops,
    );
    expect(await repository.readFile(reverted.commit, 'clusters/prod/deployment.yaml')).toBe(
      deployment(`${REPOSITORY}:v1`, marker),
    );
    const back = await settle(rolloutEvent(env, reverted.watch, new Date(Date.now() + 60_000).toISOString()), {
      ...ports,
      repository,
    });
    expect(back.objects[0]?.reason).toBe(`Kustomization "apps" is Ready at main@sha1:${reverted.commit}`);
    expect(
      liveImage(await ports.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'shop' })),
    ).toBe(`${REPOSITORY}:v1`);
  });
});

describe("a GitOps delivery through Argo CD's .argocd-source-<app>.yaml", () => {
  it('creates the override file, which the stand-in merges as Argo CD does, and the Deployment runs the digest', async () => {
    const files = {
      'apps/shop/kustomization.yaml': KUSTOMIZATION,
      'apps/shop/namespace.yaml': NAMESPACE,
      'apps/shop/deployment.yaml': deployment('shop/api'),
    };
    const { gitDir, repository, ports, gitops } = await setUp(files, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'argocd' },
    } as KubernetesObject);
    await ports.cluster.apply(
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: 'shop-production', namespace: 'argocd' },
        spec: {
          source: { repoURL: `file://${gitDir}`, targetRevision: 'main', path: 'apps/shop' },
          destination: { namespace: 'shop' },
        },
      } as KubernetesObject,
      { fieldManager: 'test', force: true },
    );
    const env = environment({
      delivery: {
        type: 'gitops',
        repository: { provider: 'local', name: 'deploy' },
        branch: 'main',
        path: 'apps/shop',
        format: { type: 'argocdSource', image: 'shop/api' },
        mode: 'commit',
        controller: { kind: 'Application', name: 'shop-production' },
      },
    });

    const result = await deliver(deployEvent({ environment: env }), gitops);
    const commit = result.watch[0]?.gitops?.commit ?? '';
    expect(await repository.readFile(commit, 'apps/shop/.argocd-source-shop-production.yaml')).toBe(
      `kustomize:\n  images:\n  - shop/api=${REPOSITORY}@${DIGEST_V1}\n`,
    );
    expect(await repository.readFile(commit, 'apps/shop/kustomization.yaml')).toBe(KUSTOMIZATION);

    const converged = await settle(rolloutEvent(env, result.watch, new Date(Date.now() + 60_000).toISOString()), {
      ...ports,
      repository,
    });
    expect(converged.state).toBe('done');
    expect(
      liveImage(await ports.cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'shop' })),
    ).toBe(`${REPOSITORY}@${DIGEST_V1}`);

    // The revert deletes the file the write created.
    const reverted = await revertDelivery(
      { executionName: 'shop-main-3f78685', environment: env, failedRevision: 0, reason: 'test' },
      gitops,
    );
    expect(await repository.readFile(reverted.commit, 'apps/shop/.argocd-source-shop-production.yaml')).toBeNull();
  });
});
