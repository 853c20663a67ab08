import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as eventsources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../../core/contracts';
import { HANDOFF_ENV, HANDOFF_ROUTE } from '../../../core/contracts/handoff';
import { WEBHOOK_ROUTE } from '../../../core/contracts/webhook';
import { INSIGHT_ENV } from '../../../core/insight/contracts';
import { STATUS_ENV } from '../../../core/status/contracts';
import { acknowledge, acknowledgeWildcardResource } from '../../nag/acknowledge';
import { type GitHostApiUrls, gitHostApiEnvironment, SteplineFunction } from '../SteplineFunction';

/** Access log fields: who called which route and how it went. Never the path (it can carry ids), a header or a body. */
export const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
};

export interface WebhookIntakeProps {
  /** Absolute path of the Stepline checkout (functions/webhook and functions/replay are bundled from it). */
  readonly projectRoot: string;
  /** Absolute path of stepline.config.json, bundled with the webhook function. */
  readonly configFile: string;
  /** ARN of the pipeline state machine that deliveries start. */
  readonly stateMachineArn: string;
  /** Its name: GitHub's "Re-run" on a check run reads the input of one of its executions (docs/adr/0091). */
  readonly stateMachineName: string;
  /**
   * The Git host tokens (JSON, core/status/contracts STATUS_ENV.tokensSecret; StatusReporter.tokensSecret): the
   * webhook asks a Git host's commit API with them for the full hash of a Bitbucket pull request's abbreviated
   * commit (docs/adr/0090). @default - none: only public repositories' commits can be resolved
   */
  readonly gitHostTokens?: secretsmanager.ISecret;
  /**
   * The Git hosts' API base URLs, for the webhook function's commit lookups (a Bitbucket pull request's abbreviated
   * commit, docs/adr/0090), as `STEPLINE_<HOST>_API_URL` (ADR 0117). @default - the hosts' own
   */
  readonly gitHostApiUrls?: GitHostApiUrls;
  /** Steady-state requests per second across the API. @default 50 */
  readonly rateLimit?: number;
  /** Burst of requests across the API. @default 100 */
  readonly burstLimit?: number;
  /** Times a parked delivery is tried again before it moves to the dead-letter queue. @default 12 (about an hour) */
  readonly maxReplayAttempts?: number;
  /**
   * The secret the Git hosts sign deliveries with (see core/contracts ENV.webhookSecretArn for its format).
   * @default - a new secret with a generated 40-character value, to copy into each Git host's webhook settings
   */
  readonly webhookSecret?: secretsmanager.ISecret;
  /**
   * The secrets other CI systems sign hand-offs with (`POST /webhooks/generic`, docs/adr/0100): JSON
   * `{ "<source>": "<secret>" }`, one entry per source under `handoffs.sources`.
   * @default - a new secret `{"default": "<generated>"}`: add an entry per source (or rename that one)
   */
  readonly handoffSecret?: secretsmanager.ISecret;
  /**
   * The artifacts bucket's name (BuildProjects.artifactsBucket): `{artifactsBucket}` in a hand-off source's manifests
   * locations stands for it. @default - none: such locations are refused
   */
  readonly artifactsBucketName?: string;
  /**
   * The deployments table (StatusReporter.deploymentsTable): issues labelled `incident` are written to it, with
   * `dynamodb:PutItem` and nothing else (ADR 0099). @default - none: issue events start nothing
   */
  readonly deploymentsTable?: dynamodb.ITable;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The front door: an HTTP API with `POST /webhooks/{provider}` (throttled, JSON access logs) in front of the webhook
 * function; the webhook secret; the parking queue (SSE-SQS, TLS only, with a dead-letter queue) where
 * deliveries that could not start wait, and the replay function that starts them again. The webhook function also
 * reads the Git host tokens (to resolve abbreviated commits) and describes the pipeline's executions (to re-run one).
 */
export class WebhookIntake extends Construct {
  public readonly api: apigw.HttpApi;
  public readonly stage: apigw.HttpStage;
  public readonly accessLogs: logs.LogGroup;
  public readonly secret: secretsmanager.ISecret;
  /** The hand-off sources' secrets (docs/adr/0100). */
  public readonly handoffSecret: secretsmanager.ISecret;
  public readonly parkingQueue: sqs.Queue;
  public readonly parkingDeadLetterQueue: sqs.Queue;
  public readonly webhookFunction: SteplineFunction;
  public readonly replayFunction: SteplineFunction;

  public constructor(scope: Construct, id: string, props: WebhookIntakeProps) {
    super(scope, id);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    if (props.webhookSecret) {
      this.secret = props.webhookSecret;
    } else {
      const secret = new secretsmanager.Secret(this, 'WebhookSecret', {
        description: 'Stepline: the secret Git hosts sign webhook deliveries with (copy it into the webhook settings)',
        generateSecretString: { passwordLength: 40, excludePunctuation: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(
        secret,
        'AwsSolutions-SMG4',
        'The webhook secret is also configured in each Git host, which Secrets Manager cannot update: rotation is ' +
          'a manual two-step change ({"current","previous"} keeps both valid meanwhile, see core/contracts ENV).',
      );
      this.secret = secret;
    }

    if (props.handoffSecret) {
      this.handoffSecret = props.handoffSecret;
    } else {
      const handoff = new secretsmanager.Secret(this, 'HandoffSecret', {
        description: 'Stepline: the secrets other CI systems sign hand-offs with, {"<source>": "<secret>"}',
        generateSecretString: {
          secretStringTemplate: '{}',
          generateStringKey: 'default',
          passwordLength: 40,
          excludePunctuation: true,
        },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(
        handoff,
        'AwsSolutions-SMG4',
        'Each source secret is also configured in the other CI (Jenkins, CircleCI credentials), which Secrets ' +
          'Manager cannot update: rotation is manual ({"current","previous"} keeps both valid meanwhile).',
      );
      this.handoffSecret = handoff;
    }

    this.parkingDeadLetterQueue = new sqs.Queue(this, 'ParkingDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.parkingDeadLetterQueue,
      'Serverless-SQSRedrivePolicy',
      'This is the dead-letter queue of the parking queue: its messages are kept 14 days for an operator to ' +
        'inspect and redrive; a dead-letter queue behind it would only move the same messages again.',
    );
    this.parkingQueue = new sqs.Queue(this, 'Parking', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      // At least six times the replay function's timeout, so a batch in progress is not delivered twice.
      visibilityTimeout: Duration.minutes(5),
      deadLetterQueue: { queue: this.parkingDeadLetterQueue, maxReceiveCount: props.maxReplayAttempts ?? 12 },
    });

    const bundleFile = path.join(props.projectRoot, 'functions/webhook/bundle.ts');
    this.webhookFunction = new SteplineFunction(this, 'Webhook', {
      projectRoot: props.projectRoot,
      name: 'webhook',
      description: 'Stepline: verifies, routes and starts webhook deliveries',
      configFile: props.configFile,
      timeout: Duration.seconds(20),
      // functions/webhook/bundle.ts is the one definition of the webhook bundle (docs/adr/0008).
      ...(existsSync(bundleFile) ? { ownBundle: { file: bundleFile, optionsExport: 'webhookBuildOptions' } } : {}),
      environment: {
        [ENV.stateMachineArn]: props.stateMachineArn,
        [ENV.webhookSecretArn]: this.secret.secretArn,
        [ENV.parkingQueueUrl]: this.parkingQueue.queueUrl,
        [HANDOFF_ENV.secretArn]: this.handoffSecret.secretArn,
        ...(props.artifactsBucketName ? { [HANDOFF_ENV.artifactsBucket]: props.artifactsBucketName } : {}),
        ...(props.gitHostTokens ? { [STATUS_ENV.tokensSecret]: props.gitHostTokens.secretArn } : {}),
        ...gitHostApiEnvironment(props.gitHostApiUrls),
        ...(props.deploymentsTable ? { [INSIGHT_ENV.table]: props.deploymentsTable.tableName } : {}),
      },
      logRetention: retention,
    });
    this.secret.grantRead(this.webhookFunction.role);
    this.handoffSecret.grantRead(this.webhookFunction.role);
    this.parkingQueue.grantSendMessages(this.webhookFunction.role);
    props.gitHostTokens?.grantRead(this.webhookFunction.role);
    if (props.deploymentsTable) {
      // An incident is one PutItem (adapters/aws/deployments-dynamodb.ts): no read, no delete, no other table.
      this.webhookFunction.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [props.deploymentsTable.tableArn] }),
      );
    }

    // "Re-run" on a check run starts the input of the execution the check run names again (adapters/aws/rerun.ts).
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.webhookFunction.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: [executions],
      }),
    );
    acknowledgeWildcardResource(
      this.webhookFunction.role,
      executions,
      'DescribeExecution and GetExecutionHistory of the run a GitHub check run names, to start its input again (from ' +
        'the failed environment, with the image its history names): execution ARNs are only ' +
        'known at run time, so the grant covers the executions of the pipeline state machine only.',
    );

    this.replayFunction = new SteplineFunction(this, 'Replay', {
      projectRoot: props.projectRoot,
      name: 'replay',
      description: 'Stepline: starts parked deliveries again under their execution names',
      timeout: Duration.seconds(30),
      environment: { [ENV.stateMachineArn]: props.stateMachineArn },
      logRetention: retention,
    });
    const mapping = new eventsources.SqsEventSource(this.parkingQueue, {
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(5),
      reportBatchItemFailures: true,
    });
    this.replayFunction.function.addEventSource(mapping);
    acknowledge(
      this.replayFunction.function,
      'Serverless-LambdaEventSourceMappingDestination',
      'An SQS event source mapping takes no on-failure destination (only stream sources do): a parked delivery ' +
        "that keeps failing moves to the parking queue's dead-letter queue after maxReceiveCount tries.",
    );

    for (const fn of [this.webhookFunction, this.replayFunction]) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [props.stateMachineArn] }),
      );
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention, removalPolicy: RemovalPolicy.RETAIN });
    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'Stepline: Git host webhooks and approvals',
      createDefaultStage: false,
    });
    this.stage = this.api.addStage('Stage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 50, burstLimit: props.burstLimit ?? 100 },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
      },
    });
    const [method, routePath] = WEBHOOK_ROUTE.split(' ') as [string, string];
    const integration = new HttpLambdaIntegration('Webhook', this.webhookFunction.function);
    const routes = this.api.addRoutes({ path: routePath, methods: [method as apigw.HttpMethod], integration });
    // The hand-off's literal route, which API Gateway matches before `{provider}` (docs/adr/0100).
    const [handoffMethod, handoffPath] = HANDOFF_ROUTE.split(' ') as [string, string];
    routes.push(
      ...this.api.addRoutes({ path: handoffPath, methods: [handoffMethod as apigw.HttpMethod], integration }),
    );
    for (const route of routes) {
      acknowledge(
        route,
        'AwsSolutions-APIG4',
        'Git hosts cannot sign requests with AWS credentials or a JWT: each webhook delivery is authenticated by ' +
          'its HMAC signature (or token header), which the webhook function checks before anything else.',
      );
    }
  }

  /** The webhook URL of a provider, for the Git host's settings: `<api>/webhooks/github`. */
  public webhookUrl(provider: string): string {
    return `${this.api.apiEndpoint}/webhooks/${provider}`;
  }
}
