import { ArnFormat, Duration, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
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
import { ALARM_PREFIX_ENV, ALARM_STATE_CHANGE } from '../../../core/insight/alarms';
import { INSIGHT_ENV } from '../../../core/insight/contracts';
import { STATUS_ENV } from '../../../core/status/contracts';
import { acknowledge, acknowledgeWildcardResource } from '../../nag/acknowledge';
import { type GitHostApiUrls, gitHostApiEnvironment, SteplineFunction } from '../SteplineFunction';

/** The EventBridge detail types of CodeBuild that the build-events function reports. */
export const CODEBUILD_DETAIL_TYPES = ['CodeBuild Build Phase Change', 'CodeBuild Build State Change'];
/** The EventBridge detail type of Step Functions execution status changes. */
export const EXECUTION_DETAIL_TYPE = 'Step Functions Execution Status Change';

export interface StatusReporterProps {
  /** Absolute path of the Stepline checkout. */
  readonly projectRoot: string;
  /** The pipeline state machine: its executions' status changes are reported; its executions are described. */
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  /** Names of the CodeBuild projects whose builds are reported (the image build and the test project). */
  readonly projectNames: readonly string[];
  /**
   * The Git host tokens (JSON, see core/status/contracts STATUS_ENV.tokensSecret).
   * @default - a new secret holding `{}`, to fill with `aws secretsmanager put-secret-value`
   */
  readonly tokensSecret?: secretsmanager.ISecret;
  /**
   * The Git hosts' API base URLs (GitHub Enterprise Server, self-managed GitLab) for the status, build-events and
   * execution-events functions, as `STEPLINE_<HOST>_API_URL` (ADR 0117). @default - the hosts' own
   */
  readonly gitHostApiUrls?: GitHostApiUrls;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Commit statuses: the status function (a workflow Task), EventBridge rules that send CodeBuild phase changes of
 * the pipeline's projects to functions/build-events and the pipeline's execution status changes to
 * functions/execution-events (with a dead-letter queue for events that cannot be delivered), and the Git host
 * tokens' secret. Each function's entry point must exist (SteplineFunction throws MissingFileError).
 */
export class StatusReporter extends Construct {
  public readonly tokensSecret: secretsmanager.ISecret;
  /** Where events go that EventBridge or the asynchronous invocations could not deliver. */
  public readonly failedEvents: sqs.Queue;
  public readonly statusFunction: SteplineFunction;
  public readonly buildEventsFunction: SteplineFunction;
  public readonly executionEventsFunction: SteplineFunction;
  /**
   * Delivery insight's deployment records and incidents (ADR 0097): partition key `pk` (a record's stream, or
   * `incident`), sort key `sk` (`<deployedAt>#<executionArn>#<result>`, or the incident's id), both strings.
   */
  public readonly deploymentsTable: dynamodb.Table;
  /** The run-link route's function, once `addRunLinks` has added it. */
  public runLinkFunction: SteplineFunction | undefined;
  /** The alarm-incidents function, once `addAlarmIncidents` made it (ADR 0099). */
  public alarmIncidentsFunction: SteplineFunction | undefined;
  readonly #props: StatusReporterProps;

  public constructor(scope: Construct, id: string, props: StatusReporterProps) {
    super(scope, id);
    this.#props = props;
    if (props.tokensSecret) {
      this.tokensSecret = props.tokensSecret;
    } else {
      const secret = new secretsmanager.Secret(this, 'GitHostTokens', {
        description: 'Stepline: Git host API tokens for commit statuses, as JSON {"github": "...", "gitlab": {...}}',
        // Not a secret: an empty document to replace with the real tokens after the first deploy.
        secretStringValue: SecretValue.unsafePlainText('{}'),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(
        secret,
        'AwsSolutions-SMG4',
        'Git host tokens are issued by GitHub, GitLab or Bitbucket, not by a database Secrets Manager can rotate: ' +
          'rotating one is creating a new token at the host and putting it here, a manual step.',
      );
      this.tokensSecret = secret;
    }

    this.failedEvents = new sqs.Queue(this, 'FailedEvents', {
      // SSE-SQS: EventBridge cannot send to a queue encrypted with the AWS managed KMS key.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const rule of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      acknowledge(
        this.failedEvents,
        rule,
        'This queue is itself the dead-letter queue of the status event rules and the on-failure destination of ' +
          'the event functions; a dead-letter queue behind it would only move the same events again.',
      );
    }

    const environment = {
      [STATUS_ENV.tokensSecret]: this.tokensSecret.secretArn,
      [STATUS_ENV.consoleKind]: 'aws',
      ...gitHostApiEnvironment(props.gitHostApiUrls),
    };
    const make = (id: string, name: string, description: string, async: boolean): SteplineFunction => {
      const fn = new SteplineFunction(this, id, {
        projectRoot: props.projectRoot,
        name,
        description,
        environment,
        timeout: Duration.seconds(60),
        ...(async ? { asyncFailureQueue: this.failedEvents } : {}),
        ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      });
      this.tokensSecret.grantRead(fn.role);
      return fn;
    };

    this.statusFunction = make('Status', 'status', 'Stepline: reports a step of a run to the Git host', false);
    this.buildEventsFunction = make(
      'BuildEvents',
      'build-events',
      'Stepline: reports CodeBuild phase changes of pipeline builds to the Git host',
      true,
    );
    this.executionEventsFunction = make(
      'ExecutionEvents',
      'execution-events',
      'Stepline: reports pipeline execution status changes to the Git host',
      true,
    );

    this.deploymentsTable = this.recordDeployments(this.statusFunction);

    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const target = (fn: SteplineFunction) =>
      new targets.LambdaFunction(fn.function, {
        deadLetterQueue: this.failedEvents,
        retryAttempts: 8,
        maxEventAge: Duration.hours(2),
      });

    new events.Rule(this, 'BuildEventsRule', {
      description: 'Stepline: CodeBuild phase and state changes of the pipeline projects',
      eventPattern: {
        source: ['aws.codebuild'],
        detailType: CODEBUILD_DETAIL_TYPES,
        detail: { 'project-name': [...props.projectNames] },
      },
      targets: [target(this.buildEventsFunction)],
    });
    new events.Rule(this, 'ExecutionEventsRule', {
      description: 'Stepline: status changes of pipeline executions',
      eventPattern: {
        source: ['aws.states'],
        detailType: [EXECUTION_DETAIL_TYPE],
        detail: { stateMachineArn: [props.stateMachineArn] },
      },
      targets: [target(this.executionEventsFunction)],
    });
    // Both event functions read the run's input when an event lacks the commit (docs/adr/0031).
    for (const fn of [this.buildEventsFunction, this.executionEventsFunction]) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executions] }),
      );
      acknowledgeWildcardResource(
        fn.role,
        executions,
        'DescribeExecution of the run an event belongs to: execution ARNs are only known at run time, so the ' +
          'grant covers the executions of the pipeline state machine only.',
      );
    }
  }

  /**
   * The status function records each environment's end (ADR 0097): one Query of the stream's newest records, one
   * PutItem. It never scans (listing every record, `DynamoDeploymentStore.list`, takes an operator's credentials).
   */
  private recordDeployments(fn: SteplineFunction): dynamodb.Table {
    const table = new dynamodb.Table(this, 'Deployments', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The history the four keys are computed from: kept when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    fn.function.addEnvironment(INSIGHT_ENV.table, table.tableName);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Query', 'dynamodb:PutItem'], resources: [table.tableArn] }),
    );
    return table;
  }

  /**
   * CloudWatch alarms as incidents (optional, ADR 0099): an EventBridge rule sends the "CloudWatch Alarm State
   * Change" events of the alarms whose names start with `prefix` to the alarm-incidents function, which opens an
   * incident at ALARM and resolves it at OK with one `dynamodb:PutItem` on the deployments table, nothing else. Call
   * it once.
   */
  public addAlarmIncidents(prefix: string): SteplineFunction {
    if (this.alarmIncidentsFunction) return this.alarmIncidentsFunction;
    const fn = new SteplineFunction(this, 'AlarmIncidents', {
      projectRoot: this.#props.projectRoot,
      name: 'alarm-incidents',
      serviceName: 'stepline-alarm-incidents',
      description: 'Stepline: records CloudWatch alarms of a name prefix as delivery incidents',
      environment: { [INSIGHT_ENV.table]: this.deploymentsTable.tableName, [ALARM_PREFIX_ENV]: prefix },
      timeout: Duration.seconds(10),
      asyncFailureQueue: this.failedEvents,
      ...(this.#props.logRetention ? { logRetention: this.#props.logRetention } : {}),
    });
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [this.deploymentsTable.tableArn] }),
    );
    new events.Rule(this, 'AlarmIncidentsRule', {
      description: `Stepline: CloudWatch alarms named ${prefix}* going to ALARM or back to OK, as incidents`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: [ALARM_STATE_CHANGE],
        detail: { alarmName: [{ prefix }], state: { value: ['ALARM', 'OK'] } },
      },
      targets: [
        new targets.LambdaFunction(fn.function, {
          deadLetterQueue: this.failedEvents,
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
        }),
      ],
    });
    this.alarmIncidentsFunction = fn;
    return fn;
  }

  /**
   * The platform's short links to runs (docs/adr/0090): `GET /runs/{name}` on `httpApi` answers 302 to the
   * execution's page in the AWS console (functions/status/run-link), and the status functions link through it
   * where a console link is longer than the host takes (GitLab: 255 characters). Call it once, with the HTTP API
   * the webhook route is on.
   */
  public addRunLinks(httpApi: apigw.HttpApi): SteplineFunction {
    if (this.runLinkFunction) return this.runLinkFunction;
    const fn = new SteplineFunction(this, 'RunLink', {
      projectRoot: this.#props.projectRoot,
      name: 'status/run-link',
      serviceName: 'stepline-run-link',
      description: 'Stepline: redirects a short run link to the execution in the AWS console',
      environment: { [STATUS_ENV.runLinkStateMachineArn]: this.#props.stateMachineArn },
      timeout: Duration.seconds(5),
      ...(this.#props.logRetention ? { logRetention: this.#props.logRetention } : {}),
    });
    const routes = httpApi.addRoutes({
      path: '/runs/{name}',
      methods: ['GET' as apigw.HttpMethod],
      integration: new HttpLambdaIntegration('RunLink', fn.function),
    });
    for (const route of routes) {
      acknowledge(
        route,
        'AwsSolutions-APIG4',
        'A commit status link, followed by anyone who can see the commit: it only redirects to the execution in the ' +
          'AWS console, which asks for an AWS sign-in itself; it reads nothing and reveals only the execution name ' +
          'that is in the link already.',
      );
    }
    for (const status of [this.statusFunction, this.buildEventsFunction, this.executionEventsFunction]) {
      status.function.addEnvironment(STATUS_ENV.runLinkUrl, httpApi.apiEndpoint);
    }
    this.runLinkFunction = fn;
    return fn;
  }
}
