import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy } from '../../../core/deploy/service';
import { awaitRollout, DIGEST_V1, deployEvent, REPOSITORY, startCluster, type TestCluster } from './support';

/**
 * kubectl against the simulated API server: people use it to look at what Stepline deployed locally. Runs
 * when a kubectl is installed (Debian's kubernetes-client 1.20 in CI; $KUBECTL names another binary). kubectl
 * runs as a child process, asynchronously: the server lives in this process's event loop.
 */
const run = promisify(execFile);

function findKubectl(): string | null {
  const candidate = process.env['KUBECTL'] ?? 'kubectl';
  try {
    execFileSync(candidate, ['version', '--client'], { stdio: 'ignore', timeout: 10_000 });
    return candidate;
  } catch {
    return null;
  }
}

const kubectlBinary = findKubectl();
let cluster: TestCluster;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run(
    kubectlBinary!,
    ['--kubeconfig', cluster.kubeconfig, '--cache-dir', `${cluster.dir}/kubectl-cache`, ...args],
    {
      timeout: 30_000,
    },
  );
  return stdout;
}

describe.runIf(kubectlBinary !== null)('kubectl against the simulated API server', () => {
  beforeAll(async () => {
    cluster = await startCluster();
    const ports = await cluster.ports();
    const event = deployEvent();
    const result = await deploy(event, ports);
    await awaitRollout(
      {
        executionName: event.executionName,
        environment: event.environment,
        watch: result.watch,
        deadline: result.rollout.deadline,
        revision: result.revision,
      },
      ports,
    );
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('gets the deployed Deployment with its server-side printed columns', async () => {
    // Act
    const output = await kubectl('get', 'deployments', '-n', 'shop');

    // Assess
    expect(output).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
    expect(output).toMatch(/\napi\s+2\/2\s+2\s+2\s+\d+s\n/);
  });

  it('gets several kinds at once, the revision record among the Secrets', async () => {
    // Act
    const output = await kubectl('get', 'rs,svc,cm,secret,sa', '-n', 'shop');

    // Assess
    expect(output).toMatch(/replicaset\.apps\/api-\w+\s+2\s+2\s+2/);
    expect(output).toMatch(/service\/api\s+ClusterIP\s+10\.96\.0\.\d+/);
    expect(output).toMatch(/secret\/stepline\.production\.v1\s+stepline\.dev\/revision\.v1\s+1/);
  });

  it('describes the Deployment: image by digest, conditions, the new ReplicaSet and its scaling events', async () => {
    // Act
    const output = await kubectl('describe', 'deployment', 'api', '-n', 'shop');

    // Assess
    expect(output).toContain(`Image:      ${REPOSITORY}@${DIGEST_V1}`);
    expect(output).toMatch(/Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable/);
    expect(output).toMatch(/Progressing\s+True\s+NewReplicaSetAvailable/);
    expect(output).toMatch(/NewReplicaSet:\s+api-\w+ \(2\/2 replicas created\)/);
    expect(output).toMatch(/ScalingReplicaSet\s+.*Scaled up replica set api-\w+ to \d/);
  });

  it('shows the change cause Stepline recorded in the rollout history', async () => {
    // Act
    const output = await kubectl('rollout', 'history', 'deployment/api', '-n', 'shop');

    // Assess
    expect(output).toMatch(/1\s+stepline shop-main-3f78685: acme\/shop@3f786850e387 to production/);
  });
});
