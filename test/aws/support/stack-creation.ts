import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EksCluster } from './eks';
import type { DeployedFunction } from './functions';
import type { StackValues } from './template';

/**
 * What CloudFormation does at `cdk deploy` that the suite can hold the platform to: it runs each custom resource's
 * function with a `Create` request and waits for the answer at the pre-signed response URL, and it creates each
 * `AWS::EKS::AccessEntry`, which EKS refuses on a cluster whose authentication mode is `CONFIG_MAP` ("The cluster's
 * authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation", EKS API
 * Reference, CreateAccessEntry). The first failure fails the stack, with its reason, as a rolled-back deploy shows it.
 */

export class StackCreateFailed extends Error {
  public constructor(
    public readonly logicalId: string,
    public readonly reason: string,
  ) {
    super(`CREATE_FAILED ${logicalId}: ${reason}`);
    this.name = 'StackCreateFailed';
  }
}

interface CustomResourceAnswer {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
}

async function runCustomResource(
  values: StackValues,
  logicalId: string,
  functionOf: (arn: string) => DeployedFunction | undefined,
): Promise<CustomResourceAnswer> {
  const props = values.resolve<Record<string, unknown>>(values.properties(logicalId));
  const token = String(props['ServiceToken'] ?? '');
  const target = functionOf(token);
  if (!target) throw new StackCreateFailed(logicalId, `its ServiceToken ${token} is not a function of the stack`);
  let answered: (answer: CustomResourceAnswer) => void = () => {};
  const answer = new Promise<CustomResourceAnswer>((resolve) => {
    answered = resolve;
  });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.writeHead(200).end();
      answered(JSON.parse(Buffer.concat(chunks).toString('utf8')) as CustomResourceAnswer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { ServiceToken: _token, ...resourceProperties } = props;
    const event = {
      RequestType: 'Create',
      ServiceToken: token,
      ResponseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`,
      StackId: values.resolver.pseudo['AWS::StackId'],
      RequestId: randomUUID(),
      LogicalResourceId: logicalId,
      ResourceType: values.resource(logicalId).Type,
      ResourceProperties: { ServiceToken: token, ...resourceProperties },
    };
    const invoked: Promise<CustomResourceAnswer | Error> = target.fn.invoke(event).then(
      () => answer,
      (error: Error) => error,
    );
    const result = await Promise.race([answer, invoked]);
    if (result instanceof Error) {
      return { Status: 'FAILED', Reason: `the function failed without answering: ${result.name}: ${result.message}` };
    }
    return result;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/** Creates what CloudFormation creates beyond the resources the suite stands in for; throws StackCreateFailed. */
export async function createStack(
  values: StackValues,
  clusters: readonly EksCluster[],
  functionOf: (arn: string) => DeployedFunction | undefined,
): Promise<void> {
  const custom = Object.entries(values.template.Resources)
    .filter(([, r]) => r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource')
    .map(([id]) => id)
    .filter((id) => values.resourcesOf(values.resource(id).Type).includes(id));
  for (const id of custom) {
    const answer = await runCustomResource(values, id, functionOf);
    if (answer.Status !== 'SUCCESS') throw new StackCreateFailed(id, answer.Reason ?? 'no reason given');
  }
  for (const id of values.resourcesOf('AWS::EKS::AccessEntry')) {
    const name = values.string(values.properties(id)['ClusterName']);
    const cluster = clusters.find((c) => c.name === name);
    if (!cluster) throw new StackCreateFailed(id, `No cluster found for name: ${name}. (ResourceNotFoundException)`);
    if (cluster.authenticationMode === 'CONFIG_MAP') {
      throw new StackCreateFailed(
        id,
        "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation. (InvalidRequestException)",
      );
    }
  }
}
