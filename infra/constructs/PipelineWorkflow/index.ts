import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Aws, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DefinitionError, MissingFileError } from '../../errors';
import { acknowledge, acknowledgeWildcardResource } from '../../nag/acknowledge';
import { missingSubstitutions, parseDefinition, placeholdersIn, substitute } from './definition';
import { mergePermissions, type Permission, type TaskPermission, taskPermissions } from './task-permissions';

export * from './definition';
export * from './task-permissions';

/**
 * What the workflow's Tasks call. Each one that is given fills a `${Placeholder}` of the definition (the name is in
 * brackets); a placeholder whose resource is not given fails synth with a message that names it.
 */
export interface WorkflowResources {
  /** `${BuildProjectName}`: the CodeBuild project that builds and pushes the image. @default - none */
  readonly buildProject?: codebuild.IProject;
  /** `${TestProjectName}`: the CodeBuild project that runs a test suite's buildspec. @default - none */
  readonly testProject?: codebuild.IProject;
  /**
   * `${UntrustedBuildProjectName}`: builds the image of a run that may not use secrets (a pull request from a
   * fork): no push, no registry or bucket access. @default - none
   */
  readonly untrustedBuildProject?: codebuild.IProject;
  /** `${UntrustedTestProjectName}`: runs a test suite of such a run, with the same restrictions. @default - none */
  readonly untrustedTestProject?: codebuild.IProject;
  /** `${StatusFunctionArn}`: reports commit statuses to the Git host. @default - none */
  readonly statusFunction?: lambda.IFunction;
  /** `${ApprovalFunctionArn}`: the approval gate (`lambda:invoke.waitForTaskToken`). @default - none */
  readonly approvalFunction?: lambda.IFunction;
  /**
   * `${ApprovalHeartbeatSeconds}`: the approval task's `HeartbeatSeconds`, which the approval keeper's schedule
   * keeps alive (`Approvals.heartbeatSeconds`). @default - none
   */
  readonly approvalHeartbeatSeconds?: number;
  /** `${DeployFunctionArn}`: server-side apply of the rendered manifests. @default - none */
  readonly deployFunction?: lambda.IFunction;
  /** `${RolloutFunctionArn}`: one check of the rollout's progress. @default - none */
  readonly rolloutFunction?: lambda.IFunction;
  /** `${RollbackFunctionArn}`: rolls the environment back to its last good revision. @default - none */
  readonly rollbackFunction?: lambda.IFunction;
  /** `${CoordinationFunctionArn}`: run registration, supersede and environment locks. @default - none */
  readonly coordinationFunction?: lambda.IFunction;
  /** `${AnalysisFunctionArn}`: one measurement of a canary or blue-green step's analysis. @default - none */
  readonly analysisFunction?: lambda.IFunction;
  /** `${ArtifactsBucketName}`: where builds put the rendered manifests. @default - none */
  readonly artifactsBucket?: s3.IBucket;
  /** `${EcrRegistry}`: the registry host images are pushed to. @default `<account>.dkr.ecr.<region>.<url suffix>` */
  readonly ecrRegistry?: string;
}

/** Every placeholder name PipelineWorkflow can fill, and what provides it. */
export const SUBSTITUTIONS = {
  BuildProjectName: 'the BuildProjects construct (image build project)',
  TestProjectName: 'the BuildProjects construct (test project)',
  UntrustedBuildProjectName: 'the BuildProjects construct (image build project for forks)',
  UntrustedTestProjectName: 'the BuildProjects construct (test project for forks)',
  StatusFunctionArn: 'the StatusReporter construct (functions/status/index.ts)',
  ApprovalFunctionArn: 'the Approvals construct (functions/approval/index.ts)',
  ApprovalHeartbeatSeconds: "the Approvals construct (its keeper's schedule)",
  DeployFunctionArn: 'the EksDeployer construct (functions/deploy/index.ts)',
  RolloutFunctionArn: 'the EksDeployer construct (functions/rollout/index.ts)',
  RollbackFunctionArn: 'the EksDeployer construct (functions/rollback/index.ts)',
  CoordinationFunctionArn: 'the RunCoordination construct (functions/coordination/index.ts)',
  AnalysisFunctionArn: 'the EksDeployer construct (functions/analysis/index.ts)',
  ArtifactsBucketName: 'the BuildProjects construct (cache and artifacts bucket)',
  EcrRegistry: 'always provided',
  AwsRegion: 'always provided',
  AwsAccountId: 'always provided',
  AwsPartition: 'always provided',
  StateMachineName: 'always provided',
} as const;

export type SubstitutionName = keyof typeof SUBSTITUTIONS;

export interface PipelineWorkflowProps {
  /** Absolute path of the `.asl.json` definition (`statemachines/pipeline.asl.json`). */
  readonly definitionFile: string;
  /** The resources the Tasks call; each fills its placeholder. */
  readonly resources: WorkflowResources;
  /** @default `${stackName}-pipeline` */
  readonly stateMachineName?: string;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/** The substitution values that `resources` provide, by placeholder name. */
export function substitutionValues(
  resources: WorkflowResources,
  stateMachineName: string,
): Partial<Record<SubstitutionName, string>> {
  const values: Partial<Record<SubstitutionName, string>> = {
    EcrRegistry: resources.ecrRegistry ?? `${Aws.ACCOUNT_ID}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}`,
    AwsRegion: Aws.REGION,
    AwsAccountId: Aws.ACCOUNT_ID,
    AwsPartition: Aws.PARTITION,
    StateMachineName: stateMachineName,
  };
  const optional: [SubstitutionName, string | undefined][] = [
    ['BuildProjectName', resources.buildProject?.projectName],
    ['TestProjectName', resources.testProject?.projectName],
    ['UntrustedBuildProjectName', resources.untrustedBuildProject?.projectName],
    ['UntrustedTestProjectName', resources.untrustedTestProject?.projectName],
    ['StatusFunctionArn', resources.statusFunction?.functionArn],
    ['ApprovalFunctionArn', resources.approvalFunction?.functionArn],
    ['ApprovalHeartbeatSeconds', numberText(resources.approvalHeartbeatSeconds)],
    ['DeployFunctionArn', resources.deployFunction?.functionArn],
    ['RolloutFunctionArn', resources.rolloutFunction?.functionArn],
    ['RollbackFunctionArn', resources.rollbackFunction?.functionArn],
    ['CoordinationFunctionArn', resources.coordinationFunction?.functionArn],
    ['AnalysisFunctionArn', resources.analysisFunction?.functionArn],
    ['ArtifactsBucketName', resources.artifactsBucket?.bucketName],
  ];
  for (const [name, value] of optional) if (value !== undefined) values[name] = value;
  return values;
}

/**
 * The pipeline: a Standard state machine from an `.asl.json` file with `DefinitionSubstitutions`, logging ALL
 * events (without execution data) to its own log group, X-Ray tracing on, and a role that may do exactly what its
 * Task states call, derived from the definition (see task-permissions.ts).
 */
export class PipelineWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;
  public readonly role: iam.Role;
  /** The substitutions given to CloudFormation, by placeholder name. */
  public readonly substitutions: Readonly<Record<string, string>>;
  /** What each Task state is allowed to do, as derived from the definition. */
  public readonly taskPermissions: readonly TaskPermission[];

  public constructor(scope: Construct, id: string, props: PipelineWorkflowProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const source = path.basename(props.definitionFile);
    let text: string;
    try {
      text = readFileSync(props.definitionFile, 'utf8');
    } catch (cause) {
      throw new MissingFileError(path.relative(process.cwd(), props.definitionFile) || source, props.definitionFile, {
        cause,
      });
    }
    const stateMachineName = props.stateMachineName ?? `${stack.stackName}-pipeline`;
    const available = substitutionValues(props.resources, stateMachineName);

    const missing = missingSubstitutions(text, available);
    if (missing.length > 0) {
      const lines = missing.map((name) =>
        name in SUBSTITUTIONS
          ? `\${${name}}: comes from ${SUBSTITUTIONS[name as SubstitutionName]}, which this app does not have`
          : `\${${name}}: PipelineWorkflow provides no such substitution (it provides ${Object.keys(SUBSTITUTIONS).join(', ')})`,
      );
      throw new DefinitionError(`${source} uses placeholders that nothing fills:\n  ${lines.join('\n  ')}`);
    }
    // Only the placeholders the definition uses go to CloudFormation.
    const used = placeholdersIn(text);
    const substitutions: Record<string, string> = {};
    for (const name of used) substitutions[name] = available[name as SubstitutionName]!;
    this.substitutions = substitutions;

    const arnTokens = new Set(
      Object.entries(substitutions)
        .filter(([name, value]) => name.endsWith('Arn') && Token.isUnresolved(value))
        .map(([, value]) => value),
    );
    const definition = parseDefinition(substitute(text, substitutions, source), source);
    this.taskPermissions = taskPermissions(definition, {
      partition: Aws.PARTITION,
      region: Aws.REGION,
      account: Aws.ACCOUNT_ID,
      stateMachineName,
      // A token stands for an ARN only when its placeholder is one (`...Arn`); `...Name` tokens are names.
      isArn: (value) => value.startsWith('arn:') || arnTokens.has(value),
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'Stepline pipeline state machine: exactly what its Task states call',
    });
    for (const permission of mergePermissions(this.taskPermissions)) {
      this.role.addToPrincipalPolicy(statementFor(permission));
    }

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(text),
      definitionSubstitutions: substitutions,
      role: this.role,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });

    const readsMetrics = this.taskPermissions.some((t) =>
      t.permissions.some((p) => p.actions.includes('cloudwatch:GetMetricData')),
    );
    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Step Functions logging and X-Ray: logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, ' +
        'DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups and ' +
        'xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets support no resource-level ' +
        'permissions (Step Functions developer guide, "IAM policies for logging to CloudWatch Logs" and X-Ray).' +
        (readsMetrics
          ? " cloudwatch:GetMetricData (a canary step's metrics) reads classic metrics, which have no ARN: the Service " +
            'Authorization Reference lists no required resource type for it.'
          : ''),
    );
    for (const permission of mergePermissions(this.taskPermissions)) {
      for (const resource of permission.resources) {
        if (!resource.includes('*') || resource === '*') continue;
        acknowledgeWildcardResource(
          this.role,
          resource,
          `Derived from the definition: ${permission.actions.join(', ')} on the executions of a state machine; an ` +
            'execution ARN is only known at run time, so the executions are matched by the state machine name.',
        );
      }
    }
  }
}

/** A whole number of seconds as the definition's JSONata reads it; anything else fails synth. */
function numberText(value: number | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value <= 0) {
    throw new DefinitionError(`approvalHeartbeatSeconds must be a positive whole number of seconds, not ${value}`);
  }
  return String(value);
}

function statementFor(permission: Permission): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: [...permission.actions], resources: [...permission.resources] });
}
