import { Validations } from 'aws-cdk-lib';
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
