import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployHandler } from '../../../../functions/deploy/handler';
import { DIGEST_V1, deployEvent, REPOSITORY, startCluster, type TestCluster } from '../../../local/kubernetes/support';
import { captured, dependencies, lambdaContext } from './support';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
});
afterAll(async () => {
  await cluster.stop();
});

describe('functions/deploy', () => {
  it('deploys and answers with the revision, what changed and what to watch', async () => {
    // Prepare
    const handler = createDeployHandler(dependencies(cluster.kubeconfig));

    // Act
    const { result, lines } = await captured(() => handler(deployEvent(), lambdaContext('stepline-deploy')));

    // Assess
    expect(result).toMatchObject({
      environment: 'production',
      namespace: 'shop',
      revision: 1,
      image: `${REPOSITORY}@${DIGEST_V1}`,
      changed: 8,
      watch: [{ kind: 'Deployment', name: 'api', namespace: 'shop', generation: 1 }],
      rollout: { pollSeconds: 2 },
    });
    const log = lines.find((l) => l['message'] === 'deployed');
    expect(log).toMatchObject({
      executionName: 'shop-main-3f78685',
      environment: 'production',
      repository: 'acme/shop',
      revision: 1,
      changed: 8,
    });
    expect(JSON.stringify(lines)).not.toContain(cluster.server.adminToken);
    expect(JSON.stringify(lines)).not.toContain('c2VjcmV0LXZhbHVl');
  });

  it("throws ManifestInvalid, with its name kept for the workflow's Catch, and counts it", async () => {
    // Prepare
    const handler = createDeployHandler(dependencies(cluster.kubeconfig));
    const event = deployEvent({ image: { repository: REPOSITORY, digest: DIGEST_V1, containers: ['worker'] } });

    // Act
    const { error, lines } = await captured(() => handler(event, lambdaContext('stepline-deploy')));

    // Assess
    expect(error?.name).toBe('ManifestInvalid');
    expect(error?.message).toContain('names container "worker", which no workload has');
    expect(lines.find((l) => l['message'] === 'deploy step failed')).toMatchObject({ errorName: 'ManifestInvalid' });
    expect(lines.find((l) => '_aws' in l)).toMatchObject({ error: 'ManifestInvalid', deployError: 1 });
  });

  it('names the fields a malformed event lacks', async () => {
    // Prepare
    const handler = createDeployHandler(dependencies(cluster.kubeconfig));
    const { image: _image, ...event } = deployEvent();

    // Act
    const { error } = await captured(() => handler(event, lambdaContext('stepline-deploy')));

    // Assess
    expect(error?.name).toBe('DeployEventInvalid');
    expect(error?.message).toBe('The deploy event lacks image.repository (string), image.digest (string)');
  });
});
