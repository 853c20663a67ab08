import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as eventsources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { APPROVAL_ENV, APPROVALS_WAITING_INDEX } from '../../../core/approval/contracts';
import { STATUS_ENV } from '../../../core/status/contracts';
import { acknowledge } from '../../nag/acknowledge';
import { SteplineFunction } from '../SteplineFunction';
import { grantTaskTokenActions } from './task-tokens';

/**
 * Comment commands (docs/adr/0039): a queue the webhook function sends each verified `/approve` or `/reject` to,
 * and the function (`functions/approval` `commandHandler`) that decides it and replies on the host, one at a time.
 * A command that cannot be decided now is delivered again; after 5 tries it waits in the dead-letter queue.
 */
export interface ApprovalCommands {
  readonly queue: sqs.Queue;
  readonly deadLetters: sqs.Queue;
  readonly function: SteplineFunction;
}

export function approvalCommands(
  scope: Construct,
  props: {
    readonly projectRoot: string;
    readonly environment: Record<string, string>;
    readonly table: { readonly tableArn: string };
    readonly signingKeys: secretsmanager.ISecret;
    readonly gitHostTokens: secretsmanager.ISecret;
    readonly stateMachineArn: string;
    readonly commandSource?: {
      readonly role: iam.IRole;
      readonly function: { addEnvironment(key: string, value: string): unknown };
    };
    readonly logRetention?: logs.RetentionDays;
  },
): ApprovalCommands {
  const deadLetters = new sqs.Queue(scope, 'CommandFailures', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  acknowledge(
    deadLetters,
    'Serverless-SQSRedrivePolicy',
    'This queue is itself the dead-letter queue of the comment commands: a command kept here 14 days for an ' +
      'operator; a dead-letter queue behind it would only move the same messages again.',
  );
  const queue = new sqs.Queue(scope, 'Commands', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(1),
    // Six times the function's timeout, so a command being decided is not delivered twice.
    visibilityTimeout: Duration.minutes(3),
    deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
  });
  const fn = new SteplineFunction(scope, 'CommandsFunction', {
    projectRoot: props.projectRoot,
    name: 'approval',
    handler: 'commandHandler',
    serviceName: 'stepline-approval-commands',
    description: 'Stepline: decides /approve and /reject comments on the Git hosts and replies to them',
    timeout: Duration.seconds(30),
    environment: { ...props.environment, [STATUS_ENV.tokensSecret]: props.gitHostTokens.secretArn },
    ...(props.logRetention ? { logRetention: props.logRetention } : {}),
  });
  fn.function.addEventSource(new eventsources.SqsEventSource(queue, { batchSize: 1 }));
  acknowledge(
    fn.function,
    'Serverless-LambdaEventSourceMappingDestination',
    'An SQS event source mapping takes no on-failure destination (only stream sources do): a command that keeps ' +
      "failing moves to the commands queue's dead-letter queue after 5 tries.",
  );
  props.signingKeys.grantRead(fn.role);
  props.gitHostTokens.grantRead(fn.role);
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: [props.table.tableArn],
    }),
  );
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: [`${props.table.tableArn}/index/${APPROVALS_WAITING_INDEX}`],
    }),
  );
  grantTaskTokenActions(fn.role, ['states:SendTaskSuccess', 'states:SendTaskFailure']);
  if (props.commandSource) {
    queue.grantSendMessages(props.commandSource.role);
    props.commandSource.function.addEnvironment(APPROVAL_ENV.commandQueueUrl, queue.queueUrl);
  }
  return { queue, deadLetters, function: fn };
}
