import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { PROVIDERS, type Provider, type SteplineConfig } from '../../core/config';
import { Approvals } from '../constructs/Approvals';
import { BuildProjects } from '../constructs/BuildProjects';
import {
  type AuthenticationMode,
  deployTargets,
  EksDeployer,
  gitopsReadTargets,
  hasGitOpsDelivery,
  prometheusWorkspaces,
} from '../constructs/EksDeployer';
import { Observability } from '../constructs/Observability';
import { PipelineWorkflow } from '../constructs/PipelineWorkflow';
import { RunCoordination } from '../constructs/RunCoordination';
import { StatusReporter } from '../constructs/StatusReporter';
import {
  entryExists,
  entryPath,
  SteplineFunction,
  type SteplineFunctionVpcPlacement,
} from '../constructs/SteplineFunction';
import { WebhookIntake } from '../constructs/WebhookIntake';
import { MissingFilesError } from '../errors';

/** The workflow definition, relative to the project root. */
export const DEFINITION_PATH = 'statemachines/pipeline.asl.json';

/** The functions (`functions/<name>/index.ts`) each construct bundles: all of them are part of the app. */
export const ENTRY_POINTS: Readonly<Record<string, readonly string[]>> = {
  StatusReporter: ['status', 'build-events', 'execution-events', 'status/run-link'],
  WebhookIntake: ['webhook', 'replay'],
  Approvals: ['approval'],
  EksDeployer: ['deploy', 'rollout', 'rollback', 'analysis'],
  RunCoordination: ['coordination'],
};

export interface SteplineStackProps extends StackProps {
  /** Absolute path of the Stepline checkout: functions/ and statemachines/ are read from it. */
  readonly projectRoot: string;
  /** The parsed pipeline configuration. */
  readonly config: SteplineConfig;
  /** Absolute path of the configuration file, bundled with the webhook function. */
  readonly configFile: string;
  /** The workflow definition. @default `<projectRoot>/statemachines/pipeline.asl.json` */
  readonly definitionFile?: string;
  /** Connections the builds check out through (BuildProjects.sourceConnectionArns). @default - none */
  readonly sourceConnectionArns?: readonly string[];
  /**
   * A VPC whose private subnets the deploy functions run in, to reach private EKS endpoints; looked up at synth
   * (needs an explicit account and region, and credentials the first time). @default - not in a VPC
   */
  readonly deployerVpcId?: string;
  /** The EKS clusters' authentication modes, as declared (EksDeployerProps.authenticationModes). @default - unknown */
  readonly eksAuthenticationModes?: Readonly<Record<string, AuthenticationMode>>;
  /** Clusters whose deployer access goes through the aws-auth ConfigMap (EksDeployerProps.awsAuthClusters). */
  readonly eksAwsAuthClusters?: readonly string[];
  /** CloudWatch alarms whose names start with it are recorded as incidents (ADR 0099). @default - none */
  readonly incidentAlarmPrefix?: string;
  /**
   * Where Git hosts other than the public ones are (GitHub Enterprise Server, self-managed GitLab): every function
   * that talks to a host gets its API URL, the approval pages its sign-in URL too (docs/adr/0117; the app reads the
   * `gitHostUrls` context, infra/bin/git-host-urls.ts). @default - github.com, gitlab.com, bitbucket.org
   */
  readonly gitHostUrls?: Readonly<Partial<Record<Provider, GitHostUrls>>>;
}

/** Where one Git host is: its REST API, and the web host its people sign in at (OAuth). */
export interface GitHostUrls {
  /** `https://ghe.example.com/api/v3`, `https://gitlab.example.com/api/v4`: no trailing slash. */
  readonly apiUrl: string;
  /** `https://ghe.example.com`, `https://gitlab.example.com`. */
  readonly oauthUrl: string;
}

/**
 * Stepline on AWS, composed from the constructs. Every function's entry point and the workflow definition must
 * exist: a missing one fails synth with a MissingFilesError that names each missing file and what needs it.
 */
export class SteplineStack extends Stack {
  public readonly build: BuildProjects;
  public readonly status: StatusReporter;
  public readonly intake: WebhookIntake;
  public readonly approvals: Approvals;
  public readonly deployer: EksDeployer;
  public readonly coordination: RunCoordination;
  public readonly workflow: PipelineWorkflow;
  public readonly observability: Observability;

  public constructor(scope: Construct, id: string, props: SteplineStackProps) {
    super(scope, id, props);
    const { projectRoot, config } = props;
    const hosts = gitHostUrlProps(props.gitHostUrls);
    const definitionFile = props.definitionFile ?? path.join(projectRoot, DEFINITION_PATH);
    refuseMissingFiles(projectRoot, definitionFile);

    const stateMachineName = `${this.stackName}-pipeline`;
    const stateMachineArn = this.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.build = new BuildProjects(this, 'BuildProjects', {
      imageRepositories: config.repositories.map((repository) => repository.build.imageRepository),
      ...(props.sourceConnectionArns ? { sourceConnectionArns: props.sourceConnectionArns } : {}),
    });

    this.status = new StatusReporter(this, 'StatusReporter', {
      projectRoot,
      stateMachineArn,
      stateMachineName,
      projectNames: [
        this.build.buildProject.projectName,
        this.build.testProject.projectName,
        this.build.untrustedBuildProject.projectName,
        this.build.untrustedTestProject.projectName,
      ],
      ...hosts.api,
    });

    this.intake = new WebhookIntake(this, 'WebhookIntake', {
      projectRoot,
      configFile: props.configFile,
      stateMachineArn,
      stateMachineName,
      gitHostTokens: this.status.tokensSecret,
      // `{artifactsBucket}` in a hand-off source's manifests locations (docs/adr/0100).
      artifactsBucketName: this.build.artifactsBucket.bucketName,
      // Issues labelled incident are written to the deployments table (ADR 0099).
      deploymentsTable: this.status.deploymentsTable,
      ...hosts.api,
    });
    // Short links to runs for the hosts that limit a status link's length (GitLab: 255), docs/adr/0090.
    this.status.addRunLinks(this.intake.api);
    if (props.incidentAlarmPrefix) this.status.addAlarmIncidents(props.incidentAlarmPrefix);
    this.approvals = new Approvals(this, 'Approvals', {
      projectRoot,
      httpApi: this.intake.api,
      stateMachineArn,
      gitHostTokens: this.status.tokensSecret,
      commandSource: this.intake.webhookFunction,
      runLinkUrl: this.intake.api.apiEndpoint,
      ...hosts.approvals,
    });
    this.deployer = new EksDeployer(this, 'EksDeployer', {
      projectRoot,
      targets: deployTargets(config),
      grantReadManifests: (grantee) => this.build.grantReadManifests(grantee),
      prometheusWorkspaces: prometheusWorkspaces(config),
      ...hosts.api, // used with gitHostTokens only: by GitOps writes
      // GitOps environments write to configuration repositories with the Git host tokens (ADR 0103); only then.
      ...(hasGitOpsDelivery(config)
        ? {
            gitHostTokens: this.status.tokensSecret,
            runLinkUrl: this.intake.api.apiEndpoint,
            gitopsReaders: gitopsReadTargets(config),
          }
        : {}),
      ...(props.eksAuthenticationModes ? { authenticationModes: props.eksAuthenticationModes } : {}),
      ...(props.eksAwsAuthClusters ? { awsAuthClusters: props.eksAwsAuthClusters } : {}),
      ...(props.deployerVpcId ? { vpcPlacement: this.deployerPlacement(props.deployerVpcId) } : {}),
    });
    this.coordination = new RunCoordination(this, 'RunCoordination', { projectRoot, stateMachineName });

    this.workflow = new PipelineWorkflow(this, 'PipelineWorkflow', {
      definitionFile,
      stateMachineName,
      resources: {
        buildProject: this.build.buildProject,
        testProject: this.build.testProject,
        untrustedBuildProject: this.build.untrustedBuildProject,
        untrustedTestProject: this.build.untrustedTestProject,
        artifactsBucket: this.build.artifactsBucket,
        ecrRegistry: this.build.registry,
        statusFunction: this.status.statusFunction.function,
        approvalFunction: this.approvals.taskFunction.function,
        approvalHeartbeatSeconds: this.approvals.heartbeatSeconds,
        deployFunction: this.deployer.deployFunction.function,
        rolloutFunction: this.deployer.rolloutFunction.function,
        rollbackFunction: this.deployer.rollbackFunction.function,
        analysisFunction: this.deployer.analysisFunction.function,
        coordinationFunction: this.coordination.function.function,
      },
    });

    const environments = new Set<string>();
    for (const repository of config.repositories)
      for (const name of Object.keys(repository.environments)) environments.add(name);
    this.observability = new Observability(this, 'Observability', {
      stateMachineArn: this.workflow.stateMachine.stateMachineArn,
      // Every function of the app, including those a construct adds later: each gets its failure alarm.
      functions: this.node.findAll().filter((child): child is SteplineFunction => child instanceof SteplineFunction),
      parking: { queue: this.intake.parkingQueue, deadLetterQueue: this.intake.parkingDeadLetterQueue },
      approvalKeeperFailures: this.approvals.keeperFailures,
      environments: [...environments].sort(),
    });

    this.outputs(stateMachineArn);
  }

  private deployerPlacement(vpcId: string): SteplineFunctionVpcPlacement {
    const vpc = ec2.Vpc.fromLookup(this, 'DeployerVpc', { vpcId });
    return { vpc, subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } };
  }

  private outputs(stateMachineArn: string): void {
    for (const provider of PROVIDERS) {
      new CfnOutput(this, `WebhookUrl-${provider}`, {
        description: `Payload URL to configure in ${provider}'s webhook settings`,
        value: this.intake.webhookUrl(provider),
      });
    }
    new CfnOutput(this, 'WebhookSecretArn', {
      description: 'The secret to paste into the Git hosts (aws secretsmanager get-secret-value --secret-id ...)',
      value: this.intake.secret.secretArn,
    });
    new CfnOutput(this, 'GitHostTokensSecretArn', {
      description: 'Put the Git host tokens here as JSON (aws secretsmanager put-secret-value --secret-id ...)',
      value: this.status.tokensSecret.secretArn,
    });
    new CfnOutput(this, 'StateMachineArn', { value: stateMachineArn });
    new CfnOutput(this, 'DeploymentsTableName', {
      description: 'The deployment records of delivery insight (npx stepline metrics dora --aws reads them)',
      value: this.status.deploymentsTable.tableName,
    });
    new CfnOutput(this, 'ExecutionsConsoleUrl', {
      description: 'The pipeline runs in the Step Functions console',
      value: `https://${this.region}.console.aws.amazon.com/states/home?region=${this.region}#/statemachines/view/${stateMachineArn}`,
    });
    new CfnOutput(this, 'DeployerRoleArn', {
      description: 'The role that the EKS access entries name (for clusters in other regions, create them yourself)',
      value: this.deployer.role.roleArn,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Subscribe to the alarms',
      value: this.observability.alarmTopic.topicArn,
    });
  }
}

/**
 * The constructs' props for `urls` (docs/adr/0117): the API URLs for every function that talks to a Git host, and
 * for the approvals also the sign-in URLs. Nothing for no hosts: the functions keep the public hosts.
 */
function gitHostUrlProps(urls: SteplineStackProps['gitHostUrls']): {
  api: { gitHostApiUrls?: Partial<Record<Provider, string>> };
  approvals: {
    gitHostApiUrls?: Partial<Record<Provider, string>>;
    signInUrls?: Partial<Record<Provider, GitHostUrls>>;
  };
} {
  const apiUrls: Partial<Record<Provider, string>> = {};
  for (const provider of PROVIDERS) {
    const host = urls?.[provider];
    if (host) apiUrls[provider] = host.apiUrl;
  }
  if (Object.keys(apiUrls).length === 0) return { api: {}, approvals: {} };
  return { api: { gitHostApiUrls: apiUrls }, approvals: { gitHostApiUrls: apiUrls, signInUrls: { ...urls } } };
}

/** Throws MissingFilesError naming every entry point and the definition file that do not exist. */
function refuseMissingFiles(projectRoot: string, definitionFile: string): void {
  const missing: { file: string; neededBy: string }[] = [];
  for (const [construct, names] of Object.entries(ENTRY_POINTS)) {
    for (const name of names) {
      if (!entryExists(projectRoot, name)) missing.push({ file: entryPath(name), neededBy: construct });
    }
  }
  if (!existsSync(definitionFile)) {
    const relative = path.relative(projectRoot, definitionFile);
    const file = relative.startsWith('..') || path.isAbsolute(relative) ? definitionFile : relative;
    missing.push({ file, neededBy: 'PipelineWorkflow' });
  }
  if (missing.length > 0) throw new MissingFilesError(missing, projectRoot);
}
