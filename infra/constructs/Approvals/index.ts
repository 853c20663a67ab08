import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  APPROVAL_ENV,
  APPROVAL_KEEPER,
  APPROVALS_WAITING_INDEX,
  heartbeatSecondsFor,
} from '../../../core/approval/contracts';
import { STATUS_ENV } from '../../../core/status/contracts';
import { acknowledge } from '../../nag/acknowledge';
import { SteplineFunction } from '../SteplineFunction';

/** The approval pages' route: `{id}` is the signed link `<request>.<expires>.<signature>` (docs/adr/0034). */
export const APPROVAL_PATH = '/approvals/{id}';

export interface ApprovalAuthorizer {
  /** The OIDC issuer URL (a Cognito user pool, or the identity provider your Git host federates with). */
  readonly issuer: string;
  /** Accepted audiences (client ids). */
  readonly audience: readonly string[];
  /** The claim that holds the Git host user name. @default 'preferred_username' */
  readonly claim?: string;
}

export interface ApprovalsProps {
  /** Absolute path of the Stepline checkout (functions/approval is bundled from it). */
  readonly projectRoot: string;
  /** The HTTP API of WebhookIntake: the approval routes are added to it. */
  readonly httpApi: apigw.HttpApi;
  /** The pipeline state machine, whose approval tasks the decisions complete and the keeper heartbeats. */
  readonly stateMachineArn: string;
  /** The Git host tokens: the task posts the "waiting for approval" status with the link. */
  readonly gitHostTokens: secretsmanager.ISecret;
  /**
   * A JWT authorizer on the approval routes, which identifies approvers. Without one, environments that list
   * approvers refuse every decision (403, failing closed); environments without approvers accept anyone with the link.
   * @default - no authorizer
   */
  readonly authorizer?: ApprovalAuthorizer;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The approval gate: `GET` and `POST /approvals/{id}` on the intake's HTTP API (optionally behind a JWT authorizer)
 * to the approval pages, the `.waitForTaskToken` task function, their DynamoDB table (TTL, point-in-time recovery,
 * the sparse index of waiting requests) and the secret with the link signing keys, and the keeper: an EventBridge
 * schedule every `APPROVAL_KEEPER.awsIntervalSeconds` that heartbeats the waiting approval tasks (docs/adr/0036).
 * The three functions come from functions/approval/index.ts (`taskHandler`, `httpHandler`, `keeperHandler`).
 */
export class Approvals extends Construct {
  public readonly table: dynamodb.Table;
  public readonly signingKeys: secretsmanager.Secret;
  /** The function the workflow's approval Task invokes with `.waitForTaskToken`. */
  public readonly taskFunction: SteplineFunction;
  /** The function behind the approval pages. */
  public readonly httpFunction: SteplineFunction;
  /** The keeper, run on a schedule: heartbeats the task of every waiting request, expires those whose task is gone. */
  public readonly keeperFunction: SteplineFunction;
  /** Where the keeper's scheduled runs go that EventBridge could not deliver or that failed all their retries. */
  public readonly keeperFailures: sqs.Queue;
  /** The `HeartbeatSeconds` of the workflow's approval task that the keeper's schedule keeps alive. */
  public readonly heartbeatSeconds = heartbeatSecondsFor(APPROVAL_KEEPER.awsIntervalSeconds);

  public constructor(scope: Construct, id: string, props: ApprovalsProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Requests', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Sparse: only a waiting request carries `waiting`, so the keeper queries the waiting ones without a scan.
    this.table.addGlobalSecondaryIndex({
      indexName: APPROVALS_WAITING_INDEX,
      partitionKey: { name: 'waiting', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.signingKeys = new secretsmanager.Secret(this, 'SigningKeys', {
      description: 'Stepline: keys that sign approval links (a string, or {"current","previous"} while rotating)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.signingKeys,
      'AwsSolutions-SMG4',
      'Rotating the link signing key invalidates every open approval link unless the old key stays as "previous" ' +
        'until those links expire: a two-step change the functions support but a rotation Lambda cannot time.',
    );

    const environment = {
      [APPROVAL_ENV.table]: this.table.tableName,
      [APPROVAL_ENV.keySecret]: this.signingKeys.secretArn,
      [APPROVAL_ENV.baseUrl]: props.httpApi.apiEndpoint,
    };
    const common = {
      projectRoot: props.projectRoot,
      name: 'approval',
      timeout: Duration.seconds(20),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    };
    this.taskFunction = new SteplineFunction(this, 'Task', {
      ...common,
      handler: 'taskHandler',
      serviceName: 'stepline-approval',
      description: 'Stepline: opens an approval request and posts its link as the commit status',
      environment: { ...environment, [STATUS_ENV.tokensSecret]: props.gitHostTokens.secretArn },
    });
    this.httpFunction = new SteplineFunction(this, 'Pages', {
      ...common,
      handler: 'httpHandler',
      serviceName: 'stepline-approval-http',
      description: 'Stepline: the approval pages; a decision completes the waiting task',
      environment: {
        ...environment,
        [APPROVAL_ENV.identity]: 'jwt',
        ...(props.authorizer?.claim ? { [APPROVAL_ENV.claim]: props.authorizer.claim } : {}),
      },
    });

    for (const fn of [this.taskFunction, this.httpFunction]) {
      this.signingKeys.grantRead(fn.role);
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          resources: [this.table.tableArn],
        }),
      );
    }
    props.gitHostTokens.grantRead(this.taskFunction.role);
    this.httpFunction.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: [props.stateMachineArn],
      }),
    );

    this.keeperFailures = new sqs.Queue(this, 'KeeperFailures', {
      // SSE-SQS: EventBridge cannot send to a queue encrypted with the AWS managed KMS key.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const rule of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      acknowledge(
        this.keeperFailures,
        rule,
        "This queue is itself the dead-letter queue of the keeper's schedule and the on-failure destination of " +
          'the keeper; a dead-letter queue behind it would only move the same failed runs again.',
      );
    }
    // The keeper uses the store and Step Functions only. Module init needs the table and the pages' URL; it reads
    // no secret (the signing keys and the Git host tokens are read lazily, by the task and the pages), so the
    // keeper is given neither.
    this.keeperFunction = new SteplineFunction(this, 'Keeper', {
      projectRoot: props.projectRoot,
      name: 'approval',
      handler: 'keeperHandler',
      serviceName: 'stepline-approval-keeper',
      description: 'Stepline: heartbeats the approval tasks that wait, so that only lost approvals time out',
      timeout: Duration.seconds(60),
      environment: {
        [APPROVAL_ENV.table]: this.table.tableName,
        [APPROVAL_ENV.baseUrl]: props.httpApi.apiEndpoint,
      },
      asyncFailureQueue: this.keeperFailures,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    this.keeperFunction.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${this.table.tableArn}/index/${APPROVALS_WAITING_INDEX}`],
      }),
    );
    this.keeperFunction.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [this.table.tableArn] }),
    );
    this.keeperFunction.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['states:SendTaskHeartbeat'], resources: [props.stateMachineArn] }),
    );
    new events.Rule(this, 'KeeperSchedule', {
      description: 'Stepline: runs the approval keeper, which heartbeats the waiting approval tasks',
      schedule: events.Schedule.rate(Duration.seconds(APPROVAL_KEEPER.awsIntervalSeconds)),
      targets: [
        new targets.LambdaFunction(this.keeperFunction.function, {
          deadLetterQueue: this.keeperFailures,
          retryAttempts: 2,
          // A run older than one interval is superseded by the next one, which does the same work.
          maxEventAge: Duration.seconds(APPROVAL_KEEPER.awsIntervalSeconds),
        }),
      ],
    });

    const authorizer = props.authorizer
      ? new HttpJwtAuthorizer('Approvers', props.authorizer.issuer, {
          jwtAudience: [...props.authorizer.audience],
          identitySource: ['$request.header.Authorization'],
        })
      : undefined;
    const routes = props.httpApi.addRoutes({
      path: APPROVAL_PATH,
      methods: ['GET' as apigw.HttpMethod, 'POST' as apigw.HttpMethod],
      integration: new HttpLambdaIntegration('Approvals', this.httpFunction.function),
      ...(authorizer ? { authorizer } : {}),
    });
    if (!authorizer) {
      for (const route of routes) {
        acknowledge(
          route,
          'AwsSolutions-APIG4',
          'No authorizer was configured (context approvalJwtIssuer): each link is HMAC-signed, expiring and single ' +
            'use, and environments that list approvers refuse every decision without one (docs/adr/0034).',
        );
      }
    }
  }
}
