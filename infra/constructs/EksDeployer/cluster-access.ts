import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CfnOutput, CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { InfraError } from '../../errors';
import { acknowledge } from '../../nag/acknowledge';

/**
 * How an EKS cluster authenticates IAM principals (AccessConfigResponse.authenticationMode in the EKS API
 * Reference). `AWS::EKS::AccessEntry` works only in the two modes with the EKS API; clusters created through the
 * EKS API, an SDK or CloudFormation default to CONFIG_MAP (CreateAccessConfigRequest), where creating one fails
 * and the stack rolls back. The switch is one way: CONFIG_MAP → API_AND_CONFIG_MAP → API.
 */
export const AUTHENTICATION_MODES = ['API', 'API_AND_CONFIG_MAP', 'CONFIG_MAP'] as const;
export type AuthenticationMode = (typeof AUTHENTICATION_MODES)[number];

/** The Kubernetes user name the deployer role maps to through the aws-auth ConfigMap. */
export const AWS_AUTH_USERNAME = 'stepline-deployer';

/**
 * The Kubernetes group every access entry of the deployer carries: what a cluster's own RBAC binds a Role or a
 * ClusterRole to for what no EKS access policy grants (RBAC objects, custom resources, cluster-scoped kinds). An
 * access entry's user name (`arn:aws:sts::…:assumed-role/<role>/{{SessionName}}`) changes with each session, so a
 * binding names this group, as the EKS user guide's "Create access entries" says of `kubernetesGroups`. On a cluster
 * kept on the aws-auth ConfigMap, the mapped user `stepline-deployer` plays that part.
 */
export const DEPLOYER_GROUP = 'stepline-deployers';

/** The command that lets a cluster take access entries (without a region: the AWS CLI's default region). */
export function switchModeCommand(cluster: string, region?: string): string {
  return (
    `aws eks update-cluster-config${region ? ` --region ${region}` : ''} --name ${cluster} ` +
    '--access-config authenticationMode=API_AND_CONFIG_MAP'
  );
}

/**
 * Parses the `eksAuthenticationMode` context value: one mode for every cluster (`API_AND_CONFIG_MAP`), or
 * `cluster=MODE` pairs separated by commas (`acme-staging=API,acme-dr=CONFIG_MAP`). Key `*`: every cluster.
 */
export function parseAuthenticationModes(value: string | undefined): Record<string, AuthenticationMode> {
  const modes: Record<string, AuthenticationMode> = {};
  for (const item of (value ?? '').split(',').map((part) => part.trim())) {
    if (!item) continue;
    const [cluster, mode] = item.includes('=') ? item.split('=', 2).map((s) => s.trim()) : ['*', item];
    if (!cluster || !AUTHENTICATION_MODES.includes(mode as AuthenticationMode)) {
      throw new InfraError(
        `context eksAuthenticationMode: "${item}" is not MODE or cluster=MODE, MODE one of ${AUTHENTICATION_MODES.join(', ')}`,
      );
    }
    modes[cluster] = mode as AuthenticationMode;
  }
  return modes;
}

/** The synth-time refusal for a cluster declared CONFIG_MAP that is not opted out to the aws-auth ConfigMap. */
export function configMapOnlyError(cluster: string, region?: string): InfraError {
  return new InfraError(
    `EKS cluster ${cluster} uses authentication mode CONFIG_MAP (context eksAuthenticationMode), where ` +
      'AWS::EKS::AccessEntry cannot be created and the stack would roll back. Either switch the cluster (one way; ' +
      `the aws-auth ConfigMap keeps working): ${switchModeCommand(cluster, region)} -- then declare ` +
      `-c eksAuthenticationMode=${cluster}=API_AND_CONFIG_MAP; or keep it and give the deployer access through the ` +
      `aws-auth ConfigMap: -c eksAwsAuthClusters=${cluster} (the stack outputs the entry to add).`,
  );
}

/**
 * A deploy-time check of clusters whose authentication mode the app does not know: a custom resource per cluster
 * (`Custom::EksAuthenticationMode`) that describes it and fails, naming the cluster and the command that switches
 * its mode, when access entries cannot be created there. Access entries depend on their cluster's check, so the
 * stack fails with that message instead of EKS's. One small function (inline code) serves every cluster.
 */
export class AuthenticationModeCheck extends Construct {
  public readonly function: lambda.Function;
  private readonly role: iam.Role;

  public constructor(scope: Construct, id: string) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Stepline: checks at deploy time that the EKS clusters can take access entries',
    });
    logGroup.grantWrite(this.role);
    this.function = new lambda.Function(this, 'Function', {
      description: 'Stepline: fails the deploy, naming the fix, when an EKS cluster cannot take access entries',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromInline(readFileSync(path.join(__dirname, 'authentication-mode-check.js'), 'utf8')),
      memorySize: 256,
      timeout: Duration.seconds(30),
      role: this.role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
    });
    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions ' +
        '(Service Authorization Reference, AWS X-Ray), so Lambda active tracing needs Resource "*".',
    );
    acknowledge(
      this.function,
      'Serverless-LambdaDLQ',
      'CloudFormation invokes this custom resource function and waits for its answer at the response URL; a ' +
        'failed invocation fails the stack operation, which is what a dead-letter queue would otherwise record.',
    );
  }

  /** The check of one cluster, given its ARN (the function may describe it) and its region. */
  public forCluster(id: string, cluster: string, region: string, clusterArn: string): CustomResource {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [clusterArn] }),
    );
    return new CustomResource(this, id, {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::EksAuthenticationMode',
      properties: { ClusterName: cluster, Region: region },
    });
  }
}

/**
 * Outputs what an operator adds to a cluster kept off access entries (`-c eksAwsAuthClusters=<cluster>`): the
 * `mapRoles` item of the aws-auth ConfigMap for the deployer role, the eksctl command that adds that item, and the
 * kubectl commands that bind the `edit` ClusterRole (what AmazonEKSEditPolicy grants through an access entry) to
 * the mapped user in each configured namespace. The mapping alone grants nothing: both are needed.
 */
export function outputAwsAuthEntry(
  scope: Construct,
  label: string,
  target: { readonly cluster: string; readonly region: string; readonly namespaces: readonly string[] },
  roleArn: string,
): void {
  new CfnOutput(scope, `AwsAuthMapRoles-${label}`, {
    description: `EKS cluster ${target.cluster}: the item to add to mapRoles in the aws-auth ConfigMap (kube-system)`,
    value: `- {rolearn: ${roleArn}, username: ${AWS_AUTH_USERNAME}}`,
  });
  new CfnOutput(scope, `AwsAuthEksctl-${label}`, {
    description: `EKS cluster ${target.cluster}: or add that mapRoles item with eksctl`,
    value:
      `eksctl create iamidentitymapping --cluster ${target.cluster} --region ${target.region} --arn ${roleArn} ` +
      `--username ${AWS_AUTH_USERNAME}`,
  });
  new CfnOutput(scope, `AwsAuthRoleBindings-${label}`, {
    description:
      `EKS cluster ${target.cluster}: then let the mapped user edit the configured namespaces ` +
      '(kubectl with that cluster as its current context)',
    value: target.namespaces
      .map(
        (namespace) =>
          `kubectl create rolebinding ${AWS_AUTH_USERNAME} --clusterrole=edit --user=${AWS_AUTH_USERNAME} ` +
          `--namespace=${namespace}`,
      )
      .join(' && '),
  });
}
