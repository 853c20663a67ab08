import { CfnOutput, Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
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
import { PROVIDERS } from '../../../core/config/providers';
import type { Provider } from '../../../core/config/schema';
import { SIGN_IN_ENV } from '../../../core/contracts/environment';
import { STATUS_ENV } from '../../../core/status/contracts';
import { InfraError } from '../../errors';
import { acknowledge } from '../../nag/acknowledge';
import { type GitHostApiUrls, gitHostApiEnvironment, SteplineFunction } from '../SteplineFunction';
import { type ApprovalCommands, approvalCommands } from './commands';
import { grantTaskTokenActions } from './task-tokens';

/** The approval pages' route: `{id}` is the signed link `<request>.<expires>.<signature>` (docs/adr/0034). */
export const APPROVAL_PATH = '/approvals/{id}';
/** Where a Git host sends the person back after the sign-in (docs/adr/0037): register it at each host. */
export const SIGN_IN_CALLBACK_PATH = '/approvals/oauth/callback';

/** Where a host's OAuth endpoints and API are, for GitHub Enterprise Server or self-managed GitLab. */
export interface SignInHostUrls {
  /** @default the host's own: `https://github.com`, `https://gitlab.com`, `https://bitbucket.org` */
  readonly oauthUrl?: string;
  /** @default `https://api.github.com`, `https://gitlab.com/api/v4`, `https://api.bitbucket.org/2.0` */
  readonly apiUrl?: string;
}

const HOST_NAMES: Readonly<Record<Provider, string>> = { github: 'GitHub', gitlab: 'GitLab', bitbucket: 'Bitbucket' };

/** A host whose API is elsewhere signs its people in there too: its `oauthUrl` must be given (ADR 0117). */
function refuseApiWithoutSignIn(props: ApprovalsProps): void {
  for (const provider of PROVIDERS) {
    const apiUrl = props.gitHostApiUrls?.[provider];
    if (apiUrl && !props.signInUrls?.[provider]?.oauthUrl) {
      throw new InfraError(
        `Approvals: gitHostApiUrls.${provider} is ${apiUrl} but signInUrls.${provider}.oauthUrl is not set: the ` +
          `approval pages would sign people in at ${HOST_NAMES[provider]}'s own site instead of that host's`,
      );
    }
  }
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
   * The webhook function, which passes comment commands on: it may send to the commands queue and is given its URL
   * (`STEPLINE_APPROVAL_COMMANDS_QUEUE_URL`). @default - no comment commands
   */
  readonly commandSource?: SteplineFunction;
  /**
   * The base URL of the run-link route (StatusReporter.addRunLinks): the task's statuses link through it where the
   * console link is longer than the host takes (GitLab: 255 characters, docs/adr/0090). @default - no short links
   */
  readonly runLinkUrl?: string;
  /** Other URLs for a host's sign-in (GitHub Enterprise Server, self-managed GitLab). @default - the hosts' own */
  readonly signInUrls?: Partial<Record<Provider, SignInHostUrls>>;
  /**
   * The Git hosts' API base URLs (ADR 0117): the task's statuses, the commands' replies and the pages' sign-in API
   * (unless `signInUrls` gives it). A host given here needs its `signInUrls` `oauthUrl` too: its people sign in at
   * that host, not at github.com or gitlab.com. @default - the hosts' own
   */
  readonly gitHostApiUrls?: GitHostApiUrls;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The approval gate: `GET` and `POST /approvals/{id}` and `GET /approvals/oauth/callback` on the intake's HTTP API
 * to the approval pages, which sign the person in with the repository's Git host (docs/adr/0037; one secret per
 * host holds its OAuth client, filled by the operator), the `.waitForTaskToken` task function, their DynamoDB table (TTL, point-in-time recovery,
 * the sparse index of waiting requests) and the secret with the link signing keys, and the keeper: an EventBridge
 * schedule every `APPROVAL_KEEPER.awsIntervalSeconds` that heartbeats the waiting approval tasks (docs/adr/0036).
 * The three functions come from functions/approval/index.ts (`taskHandler`, `httpHandler`, `keeperHandler`).
 */
export class Approvals extends Construct {
  public readonly table: dynamodb.Table;
  public readonly signingKeys: secretsmanager.Secret;
  /** Per Git host, its OAuth client: `{"clientId": "…", "clientSecret": "…"}`, created empty (`{}`). */
  public readonly oauthClients: Readonly<Record<Provider, secretsmanager.Secret>>;
  /** The sign-in callback URL to register at each host. */
  public readonly callbackUrl: string;
  /** The function the workflow's approval Task invokes with `.waitForTaskToken`. */
  public readonly taskFunction: SteplineFunction;
  /** The function behind the approval pages. */
  public readonly httpFunction: SteplineFunction;
  /** Comment commands: the queue the webhook fills, its dead-letter queue, the function that decides and replies. */
  public readonly commands: ApprovalCommands;
  /** The keeper, run on a schedule: heartbeats the task of every waiting request, expires those whose task is gone. */
  public readonly keeperFunction: SteplineFunction;
  /** Where the keeper's scheduled runs go that EventBridge could not deliver or that failed all their retries. */
  public readonly keeperFailures: sqs.Queue;
  /** The `HeartbeatSeconds` of the workflow's approval task that the keeper's schedule keeps alive. */
  public readonly heartbeatSeconds = heartbeatSecondsFor(APPROVAL_KEEPER.awsIntervalSeconds);

  public constructor(scope: Construct, id: string, props: ApprovalsProps) {
    super(scope, id);
    refuseApiWithoutSignIn(props);
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

    const oauthClients = {} as Record<Provider, secretsmanager.Secret>;
    const signInEnvironment: Record<string, string> = {};
    for (const provider of PROVIDERS) {
      const secret = new secretsmanager.Secret(this, `OAuthClient-${provider}`, {
        description: `Stepline: the ${HOST_NAMES[provider]} OAuth client of the approval sign-in, {"clientId","clientSecret"}`,
        // Created empty: no sign-in with this host until the operator puts the client in (README of this construct).
        secretStringValue: SecretValue.unsafePlainText('{}'),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(
        secret,
        'AwsSolutions-SMG4',
        'An OAuth client secret is issued by the Git host; it is rotated there, and then put here by the operator.',
      );
      oauthClients[provider] = secret;
      const names = SIGN_IN_ENV[provider];
      signInEnvironment[names.credentialsSecret] = secret.secretArn;
      const urls = props.signInUrls?.[provider];
      if (urls?.oauthUrl) signInEnvironment[names.oauthUrl] = urls.oauthUrl;
      if (urls?.apiUrl) signInEnvironment[names.apiUrl] = urls.apiUrl;
    }
    this.oauthClients = oauthClients;
    this.callbackUrl = `${props.httpApi.apiEndpoint}${SIGN_IN_CALLBACK_PATH}`;

    const environment = {
      [APPROVAL_ENV.table]: this.table.tableName,
      [APPROVAL_ENV.keySecret]: this.signingKeys.secretArn,
      [APPROVAL_ENV.baseUrl]: props.httpApi.apiEndpoint,
    };
    // The task, the pages and the commands talk to the Git hosts; the keeper does not (ADR 0117).
    const apiUrls = gitHostApiEnvironment(props.gitHostApiUrls);
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
      environment: {
        ...environment,
        [STATUS_ENV.tokensSecret]: props.gitHostTokens.secretArn,
        ...(props.runLinkUrl ? { [STATUS_ENV.runLinkUrl]: props.runLinkUrl } : {}),
        ...apiUrls,
      },
    });
    this.httpFunction = new SteplineFunction(this, 'Pages', {
      ...common,
      handler: 'httpHandler',
      serviceName: 'stepline-approval-http',
      description: 'Stepline: the approval pages; a decision completes the waiting task',
      environment: { ...environment, [APPROVAL_ENV.identity]: 'sign-in', ...apiUrls, ...signInEnvironment },
    });
    for (const secret of Object.values(oauthClients)) secret.grantRead(this.httpFunction.role);

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
    grantTaskTokenActions(this.httpFunction.role, ['states:SendTaskSuccess', 'states:SendTaskFailure']);

    this.commands = approvalCommands(this, {
      projectRoot: props.projectRoot,
      environment: { ...environment, ...apiUrls },
      table: this.table,
      signingKeys: this.signingKeys,
      gitHostTokens: props.gitHostTokens,
      stateMachineArn: props.stateMachineArn,
      ...(props.commandSource ? { commandSource: props.commandSource } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });

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
    grantTaskTokenActions(this.keeperFunction.role, ['states:SendTaskHeartbeat']);
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

    const integration = new HttpLambdaIntegration('Approvals', this.httpFunction.function);
    const routes = [
      ...props.httpApi.addRoutes({
        path: APPROVAL_PATH,
        methods: ['GET' as apigw.HttpMethod, 'POST' as apigw.HttpMethod],
        integration,
      }),
      ...props.httpApi.addRoutes({ path: SIGN_IN_CALLBACK_PATH, methods: ['GET' as apigw.HttpMethod], integration }),
    ];
    for (const route of routes) {
      acknowledge(
        route,
        'AwsSolutions-APIG4',
        'The approval pages authenticate the person themselves: a sign-in with the Git host (OAuth 2.0, state and ' +
          'PKCE), a sealed session cookie and a CSRF token; each link is also signed, expiring and single use ' +
          '(docs/adr/0034, docs/adr/0037). A person following a commit status link has no bearer token to send.',
      );
    }
    new CfnOutput(this, 'SignInCallbackUrl', {
      description:
        'The callback (redirect) URL to register in the GitHub OAuth app, the GitLab application and the Bitbucket consumer',
      value: this.callbackUrl,
    });
  }
}
