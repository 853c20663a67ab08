import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

/**
 * The deploy-time check of an EKS cluster's authentication mode (infra/constructs/EksDeployer/
 * authentication-mode-check.js, inline code of a custom resource), run as CloudFormation runs it: an event with a
 * response URL. The real EKS client talks to a local HTTP server that answers DescribeCluster as EKS does and
 * receives CloudFormation's response (moto's EKS has no accessConfig).
 */

type Handler = (event: Record<string, unknown>) => Promise<void>;
const { handler } = createRequire(__filename)('../../infra/constructs/EksDeployer/authentication-mode-check.js') as {
  handler: Handler;
};

const clusters: Record<string, string | null> = {
  'acme-api': 'API_AND_CONFIG_MAP',
  'acme-old': 'CONFIG_MAP',
  'acme-older': null, // created before access entries: no accessConfig in the answer
};
const responses: Record<string, unknown>[] = [];
let server: Server;
let base: string;
const saved = { ...process.env };

function body(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => resolve(text));
  });
}

beforeAll(async () => {
  // The handler logs one line per request, for CloudWatch: not for the test output.
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  server = createServer(async (request, response) => {
    const text = await body(request);
    if (request.method === 'PUT' && request.url === '/cloudformation-response') {
      responses.push(JSON.parse(text));
      response.end();
      return;
    }
    const name = /^\/clusters\/([^/?]+)$/.exec(request.url ?? '')?.[1];
    if (request.method === 'GET' && name && name in clusters) {
      const mode = clusters[name];
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({ cluster: { name, ...(mode ? { accessConfig: { authenticationMode: mode } } : {}) } }),
      );
      return;
    }
    response.statusCode = 404;
    response.setHeader('content-type', 'application/json');
    response.setHeader('x-amzn-errortype', 'ResourceNotFoundException');
    response.end(JSON.stringify({ message: `No cluster found for name: ${name}.` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_EKS: base,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_MAX_ATTEMPTS: '1',
  });
});

afterEach(() => {
  responses.length = 0;
});

afterAll(async () => {
  vi.restoreAllMocks();
  process.env = saved;
  await new Promise((resolve) => server.close(resolve));
});

function event(requestType: string, cluster: string): Record<string, unknown> {
  return {
    RequestType: requestType,
    ResponseURL: `${base}/cloudformation-response`,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Stepline/1',
    RequestId: 'request-1',
    LogicalResourceId: 'Check',
    ResourceType: 'Custom::EksAuthenticationMode',
    ResourceProperties: { ServiceToken: 'arn', ClusterName: cluster, Region: 'eu-west-1' },
  };
}

describe('the EKS authentication mode check', () => {
  it('answers SUCCESS for a cluster that takes access entries', async () => {
    // Act
    await handler(event('Create', 'acme-api'));

    // Assess
    expect(responses).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: 'eks-authentication-mode-acme-api',
        StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Stepline/1',
        RequestId: 'request-1',
        LogicalResourceId: 'Check',
      }),
    ]);
  });

  it.each([
    ['a cluster in CONFIG_MAP mode', 'acme-old', 'CONFIG_MAP'],
    ['a cluster whose answer has no access configuration (older than access entries)', 'acme-older', 'CONFIG_MAP'],
  ])('fails %s, naming it and the command that switches its mode', async (_case, cluster, mode) => {
    // Act
    await handler(event('Update', cluster));

    // Assess
    expect(responses).toEqual([
      expect.objectContaining({
        Status: 'FAILED',
        Reason:
          `EKS cluster ${cluster} (eu-west-1) uses authentication mode ${mode}; access entries need API or ` +
          'API_AND_CONFIG_MAP. Switch it (one way; the aws-auth ConfigMap keeps working): aws eks ' +
          `update-cluster-config --region eu-west-1 --name ${cluster} --access-config ` +
          `authenticationMode=API_AND_CONFIG_MAP -- or deploy with -c eksAwsAuthClusters=${cluster} and add the ` +
          'aws-auth entry the stack outputs.',
      }),
    ]);
  });

  it('fails for a cluster that does not exist in the region, saying so', async () => {
    // Act
    await handler(event('Create', 'acme-typo'));

    // Assess
    expect(responses).toEqual([
      expect.objectContaining({
        Status: 'FAILED',
        Reason:
          'EKS cluster acme-typo does not exist in eu-west-1: fix the cluster name or region in the configuration.',
      }),
    ]);
  });

  it('lets a Delete through without describing the cluster', async () => {
    // Act
    await handler({ ...event('Delete', 'acme-old'), PhysicalResourceId: 'eks-authentication-mode-acme-old' });

    // Assess
    expect(responses).toEqual([
      expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: 'eks-authentication-mode-acme-old' }),
    ]);
  });
});
