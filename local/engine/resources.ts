/**
 * Task `Resource` ARNs: which kind of resource, which integration pattern, and the names that history events
 * carry (`resourceType`, `resource`).
 *
 * - Service integrations: `arn:aws:states:::codebuild:startBuild.sync`, `arn:aws:states:::lambda:invoke`,
 *   `arn:aws:states:::aws-sdk:s3:getObject`, with the suffix `.sync` (or `.sync:2`) or `.waitForTaskToken`.
 * - Lambda functions: `arn:aws:lambda:us-east-1:123456789012:function:name[:alias]`.
 * - Activities: `arn:aws:states:us-east-1:123456789012:activity:name`.
 */

export type IntegrationPattern = 'REQUEST_RESPONSE' | 'RUN_JOB' | 'WAIT_FOR_TASK_TOKEN';

export interface ParsedResource {
  readonly arn: string;
  readonly kind: 'service' | 'lambda' | 'activity';
  readonly pattern: IntegrationPattern;
  /** The ARN without the integration suffix. */
  readonly base: string;
  /** History's `resourceType`: `lambda`, `codebuild`, `aws-sdk:s3`; for functions and activities the service. */
  readonly resourceType: string;
  /** History's `resource`: the action with its suffix (`startBuild.sync`), or the full ARN. */
  readonly resource: string;
}

const SERVICE =
  /^arn:(aws[a-z-]*):states:::([a-z0-9-]+(?::[a-z0-9-]+)?):([A-Za-z0-9_-]+)(\.sync(?::2)?|\.waitForTaskToken)?$/;
const LAMBDA = /^arn:(aws[a-z-]*):lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/;
const ACTIVITY = /^arn:(aws[a-z-]*):states:[a-z0-9-]+:\d{12}:activity:[A-Za-z0-9_.-]{1,80}$/;

/** Parses a Resource ARN; undefined when it is not one that Step Functions recognizes. */
export function parseResource(arn: string): ParsedResource | undefined {
  const s = SERVICE.exec(arn);
  if (s) {
    const service = s[2] as string;
    if (service.includes(':') && !service.startsWith('aws-sdk:')) return undefined;
    const suffix = s[4] ?? '';
    const pattern: IntegrationPattern = suffix.startsWith('.sync')
      ? 'RUN_JOB'
      : suffix === '.waitForTaskToken'
        ? 'WAIT_FOR_TASK_TOKEN'
        : 'REQUEST_RESPONSE';
    return {
      arn,
      kind: 'service',
      pattern,
      base: arn.slice(0, arn.length - suffix.length),
      resourceType: service,
      resource: `${s[3]}${suffix}`,
    };
  }
  if (LAMBDA.test(arn)) {
    return { arn, kind: 'lambda', pattern: 'REQUEST_RESPONSE', base: arn, resourceType: 'lambda', resource: arn };
  }
  if (ACTIVITY.test(arn)) {
    return {
      arn,
      kind: 'activity',
      pattern: 'WAIT_FOR_TASK_TOKEN',
      base: arn,
      resourceType: 'activity',
      resource: arn,
    };
  }
  return undefined;
}
