import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { COORDINATION_ENV } from '../../../core/coordination/contracts';
import { acknowledgeWildcardResource } from '../../nag/acknowledge';
import { SteplineFunction } from '../SteplineFunction';

export interface RunCoordinationProps {
  /** Absolute path of the Stepline checkout (functions/coordination is bundled from it). */
  readonly projectRoot: string;
  /** The pipeline state machine's name: superseded runs of it are stopped. */
  readonly stateMachineName: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Run coordination: supersede (a newer push to a branch cancels the older run that has not deployed) and one
 * deployment at a time per environment. A DynamoDB table (partition key `pk`, point-in-time recovery) and the
 * coordination function, which may read and conditionally write that table and stop runs of the pipeline.
 */
export class RunCoordination extends Construct {
  public readonly table: dynamodb.Table;
  public readonly function: SteplineFunction;

  public constructor(scope: Construct, id: string, props: RunCoordinationProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.function = new SteplineFunction(this, 'Function', {
      projectRoot: props.projectRoot,
      name: 'coordination',
      description: 'Stepline: registers runs, supersedes older ones and takes environment locks',
      timeout: Duration.seconds(30),
      environment: { [COORDINATION_ENV.table]: this.table.tableName },
      // It throws EnvironmentBusy and the run's cancellation for the workflow to Catch: outcomes, not failures.
      errorsAreOutcomes: true,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    this.function.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // Reads are strongly consistent GetItems; writes are conditional Put/Update, in transactions with ConditionChecks.
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
        resources: [this.table.tableArn],
      }),
    );
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.function.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['states:StopExecution'], resources: [executions] }),
    );
    acknowledgeWildcardResource(
      this.function.role,
      executions,
      'Stopping the superseded run of a branch: its execution ARN is only known at run time, so the grant covers ' +
        'the executions of the pipeline state machine only.',
    );
  }
}
