import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * One acknowledged cdk-nag finding: where it was acknowledged, its exact id as synth prints it
 * (`AwsSolutions-IAM5[Resource::*]`), and why it is acceptable.
 */
export interface NagAcknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/**
 * Context key that makes `acknowledge` record without acknowledging. The whole-app test sets it to see every finding
 * the packs raise and to check that each acknowledgement names one of them exactly (no stale or broad ones).
 */
export const RECORD_ONLY_CONTEXT = 'stepline:nag-record-only';

const registry = new WeakMap<IConstruct, NagAcknowledgement[]>();

/**
 * Acknowledges one cdk-nag finding on `scope` (and everything below it) with a reason a reviewer can check.
 * Every acknowledgement in the app goes through here so that the app can list them (`acknowledgementsOf`).
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (!/^[A-Za-z]+-[A-Za-z0-9]+(\[.+\])?$/.test(id)) {
    throw new Error(`not a cdk-nag finding id: "${id}" (expected Pack-Rule or Pack-Rule[Finding])`);
  }
  if (reason.trim().length < 40) {
    throw new Error(`the acknowledgement of ${id} on ${scope.node.path} needs a reason a reviewer can check`);
  }
  const root = scope.node.root;
  const list = registry.get(root) ?? [];
  list.push({ path: scope.node.path, id, reason });
  registry.set(root, list);
  if (scope.node.tryGetContext(RECORD_ONLY_CONTEXT) !== true) {
    Validations.of(scope).acknowledge({ id, reason });
  }
}

/** Every acknowledgement made in the app that `scope` belongs to. */
export function acknowledgementsOf(scope: IConstruct): readonly NagAcknowledgement[] {
  return registry.get(scope.node.root) ?? [];
}

/**
 * The flat form in which cdk-nag prints a resource of an IAM5 finding: tokens resolved, `Ref` as `<Id>`,
 * `Fn::GetAtt` as `<Id.Attribute>`, `${...}` of Fn::Sub as `<...>`. Used to name a finding exactly.
 */
export function nagResource(scope: IConstruct, value: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (Array.isArray(record['Fn::Join'])) {
        const [delimiter, items] = record['Fn::Join'] as [string, unknown[]];
        return items.map(visit).join(delimiter);
      }
      if (record['Fn::Sub'] !== undefined) return visit(record['Fn::Sub']);
      if (Array.isArray(record['Fn::GetAtt'])) {
        const [resource, attribute] = record['Fn::GetAtt'] as [unknown, unknown];
        return `<${visit(resource)}.${visit(attribute)}>`;
      }
      if (record.Ref !== undefined) return `<${visit(record.Ref)}>`;
    }
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}

/** Acknowledges the IAM5 finding of a wildcard resource, naming it exactly as cdk-nag prints it. */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  acknowledge(scope, `AwsSolutions-IAM5[Resource::${nagResource(scope, resource)}]`, reason);
}
