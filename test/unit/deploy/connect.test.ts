import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClusterConnector, loadKubeconfig } from '../../../adapters/kubernetes/connect';
import { ClusterLookupFailed } from '../../../core/deploy/errors';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret' };

describe('ClusterConnector (EKS)', () => {
  const eks = mockClient(EKSClient);
  // The stub is on the client's prototype: later files in this worker must get the real send back.
  afterAll(() => eks.restore());
  let now = new Date('2024-05-06T07:08:09Z');
  const connector = () =>
    new ClusterConnector({
      eks: () => new EKSClient({ region: 'eu-west-1' }),
      credentials: CREDENTIALS,
      defaultRegion: 'eu-west-1',
      now: () => now,
    });

  beforeEach(() => {
    eks.reset();
    now = new Date('2024-05-06T07:08:09Z');
  });

  it('pins the CA from DescribeCluster and authenticates with a token for that cluster', async () => {
    // Prepare
    eks.on(DescribeClusterCommand, { name: 'prod' }).resolves({
      cluster: {
        status: 'ACTIVE',
        endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
        certificateAuthority: { data: Buffer.from(CA).toString('base64') },
      },
    });

    // Act
    const { kubeConfig } = await connector().connect({ type: 'eks', name: 'prod' });

    // Assess
    const cluster = kubeConfig.getCurrentCluster()!;
    expect(cluster.server).toBe('https://ABC.gr7.eu-west-1.eks.amazonaws.com');
    expect(Buffer.from(cluster.caData!, 'base64').toString()).toBe(CA);
    expect(cluster.skipTLSVerify).toBe(false);
    const token = kubeConfig.getCurrentUser()!.token!;
    const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString());
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
  });

  it('looks a cluster up once an hour, not on every invocation', async () => {
    // Prepare
    eks.on(DescribeClusterCommand).resolves({
      cluster: {
        status: 'ACTIVE',
        endpoint: 'https://e',
        certificateAuthority: { data: Buffer.from(CA).toString('base64') },
      },
    });
    const shared = connector();

    // Act
    await shared.connect({ type: 'eks', name: 'prod', region: 'eu-west-1' });
    await shared.connect({ type: 'eks', name: 'prod', region: 'eu-west-1' });
    now = new Date(now.getTime() + 61 * 60 * 1000);
    await shared.connect({ type: 'eks', name: 'prod', region: 'eu-west-1' });

    // Assess
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(2);
  });

  it.each([
    [
      'a cluster that does not exist',
      Object.assign(new Error('No cluster found for name: prod.'), { name: 'ResourceNotFoundException' }),
      'there is no EKS cluster named "prod" in eu-west-1',
    ],
    [
      'a role that may not describe it',
      Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }),
      'may not call eks:DescribeCluster on "prod"',
    ],
  ])('fails with ClusterLookupFailed for %s', async (_case, error, expected) => {
    // Prepare
    eks.on(DescribeClusterCommand).rejects(error);

    // Act
    const connect = connector().connect({ type: 'eks', name: 'prod' });

    // Assess
    await expect(connect).rejects.toThrow(ClusterLookupFailed);
    await expect(connect).rejects.toThrow(expected);
  });

  it('refuses a cluster that is still being created', async () => {
    // Prepare
    eks.on(DescribeClusterCommand).resolves({ cluster: { status: 'CREATING' } });

    // Act & Assess
    await expect(connector().connect({ type: 'eks', name: 'prod' })).rejects.toThrow(
      'EKS cluster prod in eu-west-1 is CREATING, not ACTIVE',
    );
  });
});

describe('loadKubeconfig', () => {
  let dir: string;
  const kubeconfig = (cluster: Record<string, unknown>) => `apiVersion: v1
kind: Config
clusters:
  - name: dev
    cluster: ${JSON.stringify(cluster)}
users:
  - name: ci
    user: {token: abc}
contexts:
  - name: dev
    context: {cluster: dev, user: ci}
current-context: dev
`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-kubeconfig-'));
    await writeFile(
      join(dir, 'good'),
      kubeconfig({
        server: 'https://127.0.0.1:6443',
        'certificate-authority-data': Buffer.from(CA).toString('base64'),
      }),
    );
    await writeFile(
      join(dir, 'insecure'),
      kubeconfig({ server: 'https://127.0.0.1:6443', 'insecure-skip-tls-verify': true }),
    );
    await writeFile(join(dir, 'plain'), kubeconfig({ server: 'http://127.0.0.1:8080' }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a context and names its user for error messages', () => {
    // Act
    const { kubeConfig, identity } = loadKubeconfig(join(dir, 'good'), 'dev');

    // Assess
    expect(kubeConfig.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(identity).toBe('the kubeconfig user "ci"');
  });

  it.each([
    ['a context it does not have', 'good', 'staging', 'has no context "staging" (contexts: dev)'],
    [
      'a context that skips TLS verification',
      'insecure',
      undefined,
      'turns off certificate verification (insecure-skip-tls-verify)',
    ],
    ['a server over plain HTTP', 'plain', undefined, 'Stepline only talks to API servers over HTTPS'],
    ['a file that does not exist', 'missing', undefined, 'Cannot read the kubeconfig'],
  ])('refuses %s', (_case, file, context, expected) => {
    // Act
    const load = () => loadKubeconfig(join(dir, file), context);

    // Assess
    expect(load).toThrow(ClusterLookupFailed);
    expect(load).toThrow(expected);
  });
});

describe('ClusterConnector (kubeconfig)', () => {
  let dir: string;
  const kubeconfig = (server: string) => `apiVersion: v1
kind: Config
clusters:
  - name: dev
    cluster: {server: "${server}", certificate-authority-data: ${Buffer.from(CA).toString('base64')}}
users:
  - name: ci
    user: {token: abc}
contexts:
  - name: dev
    context: {cluster: dev, user: ci}
current-context: dev
`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stepline-kubeconfig-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a kubeconfig file once while it does not change, and again once it does', async () => {
    // Prepare
    const path = join(dir, 'config');
    await writeFile(path, kubeconfig('https://127.0.0.1:6443'));
    const connector = new ClusterConnector(null);
    const first = await connector.connect({ type: 'kubeconfig', path });

    // Act
    const again = await connector.connect({ type: 'kubeconfig', path });
    await writeFile(path, kubeconfig('https://10.0.0.1:443'));
    const changed = await connector.connect({ type: 'kubeconfig', path });

    // Assess
    expect(again.kubeConfig).toBe(first.kubeConfig);
    expect(again.key).toBe(first.key);
    expect(changed.kubeConfig).not.toBe(first.kubeConfig);
    expect(changed.kubeConfig.getCurrentCluster()?.server).toBe('https://10.0.0.1:443');
  });
});
