import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { SampleRepository } from '../../../local/demo/repository';
import type { AwsWorld } from './world';

/** What the suite's scenarios read back from the world: statuses on the Git host, locks, deployed images. */

/** The latest state of each commit status context of a commit, as the Git host shows it. */
export function statuses(world: AwsWorld, repository: string, sha: string): Record<string, string> {
  const latest = world.githost.latest('github', repository, sha);
  return Object.fromEntries([...latest.entries()].map(([context, status]) => [context, status.state]));
}

/** The latest status of one context, with its description and link. */
export function status(world: AwsWorld, repository: string, sha: string, context: string) {
  return world.githost.latest('github', repository, sha).get(context);
}

/** The environments whose deploy lock is held, from the coordination table as DynamoDB has it. */
export async function heldLocks(world: AwsWorld): Promise<string[]> {
  const tableId = world.values.resourcesOf('AWS::DynamoDB::Table').find((id) => id.startsWith('RunCoordination'));
  if (!tableId) throw new Error('the template has no run coordination table');
  const items = await world.clients.dynamodb.send(new ScanCommand({ TableName: world.values.ref(tableId) }));
  return (items.Items ?? [])
    .filter((item) => item['pk']?.S?.startsWith('env#') && item['holder']?.S)
    .map((item) => `${item['pk']!.S} held by ${item['holder']!.S}`);
}

/** The image of a Deployment's container in the cluster. */
export function deployedImage(world: AwsWorld, namespace: string, name = 'hello-service'): string | undefined {
  const type = world.kubernetes.registry.byKind('apps', 'v1', 'Deployment');
  if (!type) throw new Error('the simulated cluster has no Deployment kind');
  const object = world.kubernetes.store.find(type, namespace, name) as
    | { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }
    | undefined;
  return object?.spec?.template?.spec?.containers?.[0]?.image;
}

/** The digest the suite's buildspec gives the image of a commit: the SHA-256 of its source archive. */
export function imageDigest(repository: SampleRepository, sha = repository.head): string {
  const archive = execFileSync('git', ['archive', '--format=tar', sha], { cwd: repository.dir });
  return `sha256:${createHash('sha256').update(archive).digest('hex')}`;
}

/** The denied AWS calls, the unknown requests and refused tokens: what a scenario that expects none shows. */
export function refusals(world: AwsWorld): string[] {
  return [
    ...world.iam.denials(),
    ...world.endpoint.refusals.map((r) => `${r.method} ${r.path}: ${r.reason}`),
    ...world.eks.refusedTokens,
    ...world.hookErrors,
  ];
}
