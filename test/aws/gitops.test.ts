import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubPush } from '../../local/demo/webhook';
import { deployedImage, imageDigest, refusals, statuses } from './support/checks';
import { GitOpsSide } from './support/gitops';
import { writeReport } from './support/report';
import { change, serviceRepository } from './support/repository';
import { AwsWorld, GITHUB_TOKEN } from './support/world';

/**
 * The GitOps hand-off on the platform as synthesized (issue 20 "Out", ADR 0102 and 0103), in a world of its own:
 * the configuration (fixtures/gitops.config.json) has one environment that hands its releases to Argo CD, in
 * commit mode, through a configuration repository on GitHub. So the stack gives the deploy, rollout and rollback
 * bundles the Git host tokens secret and the run link (EksDeployer, `hasGitOpsDelivery`); the bundles read the
 * token from Secrets Manager (moto) with their role, write with the GitHub adapter (Git Database API) to the GitHub
 * stand-in on 127.0.0.1, and read the Application's status from EKS (the simulated API server, within the access
 * entries' scope). The stand-in Argo CD syncs the bare repository behind the GitHub stand-in after each deploy,
 * rollout check and rollback Task (task hooks, which hold the execution's virtual clock still).
 */

const CONFIG = 'test/aws/fixtures/gitops.config.json';
const DEPLOY_REPOSITORY = 'stepline-demo/deploy';
const PATH = 'apps/hello/staging';
const NAMESPACE = 'gitops-staging';
const APPLICATION = { name: 'hello-staging', namespace: 'argocd', path: PATH, destination: NAMESPACE };
const FIRST_IMAGE = 'registry.example.com/stepline-demo/hello-service:v1';

const KUSTOMIZATION = [
  '# staging overlay, synced by Argo CD',
  'resources:',
  '  - deployment.yaml',
  'images:',
  '  - name: hello-service',
  '    newName: registry.example.com/stepline-demo/hello-service',
  '    newTag: v1 # first release',
  '',
].join('\n');
const DEPLOYMENT = [
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata:',
  '  name: hello-service',
  `  namespace: ${NAMESPACE}`,
  'spec:',
  '  replicas: 2',
  // Past its progress deadline (scaled by the simulated cluster), a rollout that never gets ready is Degraded.
  '  progressDeadlineSeconds: 60',
  '  selector:',
  '    matchLabels: {app: hello-service}',
  '  template:',
  '    metadata:',
  '      labels: {app: hello-service}',
  '    spec:',
  '      containers:',
  '        - name: hello-service',
  '          image: hello-service',
  '',
].join('\n');

let world: AwsWorld;
let gitops: GitOpsSide;

beforeAll(async () => {
  gitops = await GitOpsSide.start({
    fullName: DEPLOY_REPOSITORY,
    branch: 'main',
    token: GITHUB_TOKEN,
    files: { [`${PATH}/kustomization.yaml`]: KUSTOMIZATION, [`${PATH}/deployment.yaml`]: DEPLOYMENT },
  });
  world = await AwsWorld.start({
    config: CONFIG,
    clusters: [{ name: 'stepline-e2e', authenticationMode: 'API_AND_CONFIG_MAP' }],
    namespaces: ['argocd', NAMESPACE],
    // The deployer's bundles reach GitHub's REST API on the configuration repository's stand-in.
    redirect: (logicalId): Record<string, string> =>
      logicalId.startsWith('EksDeployer') ? { STEPLINE_GITHUB_API_URL: gitops.host.url } : {},
  });
  gitops.installArgoCd(world.kubernetes, APPLICATION);
  // The operator applies the RBAC the stack outputs for the deployer to read the Application (ADR 0108).
  expect(GitOpsSide.applyReaderRbac(world.kubernetes, world.assembly.template)).toEqual([
    'Role argocd/stepline-gitops-reader',
    'RoleBinding argocd/stepline-gitops-reader',
  ]);
  // Argo CD syncs after each write, each check and each revert, before the workflow goes on.
  for (const prefix of ['EksDeployerDeploy', 'EksDeployerRollout', 'EksDeployerRollback']) {
    world.onTask(prefix, async ({ running }) => {
      await running.catch(() => undefined);
      await gitops.reconcile();
    });
  }
  await gitops.settle(world.kubernetes);
}, 600_000);

afterAll(async () => {
  if (world)
    console.log(
      ['AWS calls and unused permissions by role:', ...writeReport(world, 'aws-composition-gitops')].join('\n'),
    );
  await world?.stop();
  await gitops?.stop();
});

async function push(repository: Awaited<ReturnType<typeof serviceRepository>>) {
  const answer = await world.deliver('github', githubPush(repository, world.webhookSecret));
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  const arn = String(answer.body['executionArn']);
  return { name: String(answer.body['name']), record: await world.ended(arn) };
}

/** The Argo CD Application's status, as the controller wrote it. */
function application() {
  const type = world.kubernetes.registry.byKind('argoproj.io', 'v1alpha1', 'Application');
  if (!type) throw new Error('no Application kind');
  const found = world.kubernetes.store.find(type, APPLICATION.namespace, APPLICATION.name) as
    | { status?: { sync?: { status?: string; revision?: string }; health?: { status?: string } } }
    | undefined;
  return {
    sync: found?.status?.sync?.status,
    revision: found?.status?.sync?.revision,
    health: found?.status?.health?.status,
  };
}

describe.sequential('a GitOps delivery on the platform as synthesized', () => {
  let delivered = '';
  let deliveredFile = '';

  it('GitOpsCommitTest: a push commits the digest to the configuration branch, and succeeds once Argo CD has synced it', {
    timeout: 420_000,
  }, async () => {
    // Prepare
    const repository = await serviceRepository('gitops', ['staging']);
    const digest = imageDigest(repository);
    const first = await gitops.head();
    expect(application()).toEqual({ sync: 'Synced', revision: first, health: 'Healthy' });
    expect(deployedImage(world, NAMESPACE)).toBe(FIRST_IMAGE);

    // Act
    const { name, record } = await push(repository);

    // Assess: one commit on main, on top of what was there, with the digest spliced in and the run linked.
    expect(record.status, `${record.error}: ${record.cause}`).toBe('SUCCEEDED');
    expect(refusals(world)).toEqual([]);
    delivered = await gitops.head();
    expect(delivered).not.toBe(first);
    expect(await gitops.repository.firstParent(delivered)).toBe(first);
    const image = deployedImage(world, NAMESPACE) ?? '';
    expect(image).toMatch(new RegExp(`/stepline-demo/hello-service@${digest}$`));
    const repositoryUri = image.split('@')[0];
    deliveredFile = (await gitops.repository.readFile(delivered, `${PATH}/kustomization.yaml`)) ?? '';
    expect(deliveredFile).toBe(
      KUSTOMIZATION.replace(
        '    newName: registry.example.com/stepline-demo/hello-service\n    newTag: v1 # first release\n',
        `    newName: ${repositoryUri}\n    digest: ${digest}\n`,
      ),
    );
    const message = await gitops.message(delivered);
    expect(message).toContain(`deploy(staging): `);
    expect(message).toContain(`Run: ${world.gateway.url}/runs/${name}`);
    expect(message).toContain(`Stepline-Execution: ${name}`);
    expect(application()).toEqual({ sync: 'Synced', revision: delivered, health: 'Healthy' });
    expect(statuses(world, repository.name, repository.head)).toMatchObject({
      stepline: 'success',
      'stepline/deploy/staging': 'success',
    });
    expect(gitops.host.requests.length).toBeGreaterThan(0);
    expect(gitops.host.requests.every((r) => r.authorization === `Bearer ${GITHUB_TOKEN}`)).toBe(true);
  });

  it('GitOpsRevertTest: Argo CD reports Degraded, the run reverts its commit and ends Stepline.DeployFailed', {
    timeout: 420_000,
  }, async () => {
    // Prepare: a change whose image never gets ready.
    expect(delivered, 'the commit test ran first').not.toBe('');
    const good = deployedImage(world, NAMESPACE);
    const repository = await change(
      await serviceRepository('gitops', ['staging']),
      { 'src/greeting.txt': 'never ready\n' },
      'A change whose image never gets ready',
    );
    const bad = imageDigest(repository);
    world.kubernetes.setImageReadiness((image) => !image.endsWith(bad));

    // Act
    const { name, record } = await push(repository);

    // Assess: the write, then its revert on top, the file back byte for byte, and Argo CD back at the revert.
    expect(record.status).toBe('FAILED');
    expect(record.error, String(record.cause)).toBe('Stepline.DeployFailed');
    expect(String(record.cause)).toMatch(/Degraded/);
    expect(refusals(world)).toEqual([]);
    const revert = await gitops.head();
    const write = (await gitops.repository.firstParent(revert)) ?? '';
    expect(await gitops.repository.firstParent(write)).toBe(delivered);
    expect(await gitops.repository.readFile(write, `${PATH}/kustomization.yaml`)).toContain(`digest: ${bad}`);
    expect(await gitops.repository.readFile(revert, `${PATH}/kustomization.yaml`)).toBe(deliveredFile);
    const message = await gitops.message(revert);
    expect(message).toMatch(/^Revert "/);
    expect(message).toContain(`This reverts commit ${write}`);
    expect(message).toContain(`Run: ${world.gateway.url}/runs/${name}`);
    expect(application()).toEqual({ sync: 'Synced', revision: revert, health: 'Healthy' });
    expect(deployedImage(world, NAMESPACE)).toBe(good);
    expect(statuses(world, repository.name, repository.head)).toMatchObject({
      stepline: 'failure',
      'stepline/deploy/staging': 'failure',
    });
  });
});
