import type { MotoClients } from './clients';
import { generatedName, type TemplateResolver } from './resolver';
import { dynamoDbTable } from './resources/dynamodb';
import { type StandInKind, UnsupportedProperty } from './resources/kind';
import { s3Bucket } from './resources/s3';
import { secretsManagerSecret } from './resources/secrets';
import { sqsQueue } from './resources/sqs';
import type { CfnResource, CfnTemplate } from './template';

export { UnsupportedProperty } from './resources/kind';

/**
 * Creates, on a moto server, the resources a synthesized template declares, from their properties: DynamoDB
 * tables, SQS queues, S3 buckets and Secrets Manager secrets. Each property is applied with the API call
 * CloudFormation's handler would make; any other property is an UnsupportedProperty error naming it, so that
 * nothing the template declares is silently dropped. Resources of other types are not created; what refers to them is the resolver's business.
 */

/** One resource created on the stand-in: its type and what `Ref` and `Fn::GetAtt` return for it. */
export interface StandIn {
  readonly logicalId: string;
  readonly type: string;
  /** `Ref`: a table's or bucket's name, a queue's URL, a secret's ARN. */
  readonly ref: string;
  /** `Fn::GetAtt`: `Arn` for each; `QueueName`, `QueueUrl`; `StreamArn`; `DomainName`, `RegionalDomainName`... */
  readonly attributes: Readonly<Record<string, string>>;
}

export type StandIns = Readonly<Record<string, StandIn>>;

export const STAND_IN_KINDS: Readonly<Record<string, StandInKind>> = Object.fromEntries(
  [dynamoDbTable, sqsQueue, s3Bucket, secretsManagerSecret].map((kind) => [kind.type, kind]),
);

export interface CreateStandInsOptions {
  readonly clients: MotoClients;
  /** Evaluates the properties; each created resource is `provide`d to it, so that later ones can refer to it. */
  readonly resolver: TemplateResolver;
  /**
   * Which resources to create. The resources they refer to are created too (a queue's dead-letter queue).
   * @default every resource of a stand-in type
   */
  readonly select?: (logicalId: string, resource: CfnResource) => boolean;
}

/** Creates the selected resources (and those they refer to) in dependency order; their values by logical id. */
export async function createStandIns(template: CfnTemplate, options: CreateStandInsOptions): Promise<StandIns> {
  const { clients, resolver } = options;
  const order = creationOrder(template, options.select ?? (() => true), resolver);
  const created: Record<string, StandIn> = {};
  for (const logicalId of order) {
    const resource = template.Resources[logicalId]!;
    const kind = STAND_IN_KINDS[resource.Type]!;
    const raw = resource.Properties ?? {};
    for (const property of Object.keys(raw)) {
      if (!kind.properties.includes(property)) {
        throw new UnsupportedProperty(
          `${resource.Type} ${logicalId}: property ${property} is not stood in by test/support/moto ` +
            `(it takes ${kind.properties.join(', ')})`,
        );
      }
    }
    const properties = resolver.resolve<Record<string, unknown>>(raw) ?? {};
    const pseudo = resolver.pseudo;
    const values = await kind.create({
      logicalId,
      properties,
      clients,
      pseudo,
      generatedName: (max) => generatedName(pseudo, logicalId, max),
    });
    resolver.provide(logicalId, values);
    created[logicalId] = { logicalId, type: resource.Type, ...values };
  }
  return created;
}

/** The logical ids to create, each after the stand-in resources its properties refer to. */
function creationOrder(
  template: CfnTemplate,
  select: (logicalId: string, resource: CfnResource) => boolean,
  resolver: TemplateResolver,
): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (logicalId: string, path: readonly string[]) => {
    if (order.includes(logicalId)) return;
    if (visiting.has(logicalId)) throw new Error(`circular references: ${[...path, logicalId].join(' → ')}`);
    visiting.add(logicalId);
    const resource = template.Resources[logicalId]!;
    for (const dependency of referencedIds(resource.Properties ?? {})) {
      const target = template.Resources[dependency];
      if (target && STAND_IN_KINDS[target.Type] && included(target)) {
        visit(dependency, [...path, logicalId]);
      }
    }
    visiting.delete(logicalId);
    order.push(logicalId);
  };
  const included = (resource: CfnResource) =>
    resource.Condition === undefined || resolver.condition(resource.Condition);
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (STAND_IN_KINDS[resource.Type] && included(resource) && select(logicalId, resource)) {
      visit(logicalId, []);
    }
  }
  return order;
}

/** The logical ids a value refers to with `Ref`, `Fn::GetAtt` or `Fn::Sub`. */
function referencedIds(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, into);
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'Ref' && typeof item === 'string') into.add(item);
      else if (key === 'Fn::GetAtt')
        into.add(typeof item === 'string' ? item.split('.')[0]! : String((item as unknown[])[0]));
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(item) ? String(item[0]) : String(item);
        for (const match of text.matchAll(/\$\{([^!}][^}.]*)/g)) into.add(match[1]!.trim());
        if (Array.isArray(item)) referencedIds(item[1], into);
      } else referencedIds(item, into);
    }
  }
  return into;
}
