import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { acknowledgeWildcardResource } from '../../nag/acknowledge';

/** The Step Functions actions that answer, or keep alive, a task by its token. */
export type TaskTokenAction = 'states:SendTaskSuccess' | 'states:SendTaskFailure' | 'states:SendTaskHeartbeat';

/**
 * Lets a role answer task tokens. IAM authorizes `states:SendTaskSuccess`, `SendTaskFailure` and
 * `SendTaskHeartbeat` for a service integration's `.waitForTaskToken` task on no resource at all: the Service
 * Authorization Reference lists no resource type for them (only an activity's, for activity workers), so a
 * statement scoped to the state machine's ARN never matches and every call is denied. The token itself is the
 * capability: it names one task of one execution and cannot be guessed.
 */
export function grantTaskTokenActions(role: iam.IRole, actions: readonly TaskTokenAction[]): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: ['*'] }));
  acknowledgeWildcardResource(
    role as unknown as IConstruct,
    '*',
    `${actions.join(', ')} support no resource-level permissions for task tokens of service integrations ` +
      '(Service Authorization Reference, AWS Step Functions); the token names the one task it answers.',
  );
}
