import { App, type AppProps } from 'aws-cdk-lib';
import { parseAuthenticationModes } from '../constructs/EksDeployer';
import { InfraError } from '../errors';
import { addNagPacks } from '../nag/packs';
import { SteplineStack } from '../stacks/stepline-stack';
import { parseGitHostUrls } from './git-host-urls';
import { loadConfig } from './load-config';

/**
 * Context keys the app reads (`cdk synth -c key=value`, or "context" in cdk.json):
 * - `config`: path of the configuration, relative to the project root. Default `stepline.config.json`.
 * - `stackName`: default `Stepline`.
 * - `account`, `region`: pin the stack to an environment (needed for `deployerVpcId`). Default: environment-agnostic.
 * - `deployerVpcId`: place the deploy functions in this VPC's private subnets (looked up once, needs credentials).
 * - `sourceConnectionArns` (comma-separated): CodeConnections connections the builds check out through (GitLab).
 * - `eksAuthenticationMode`: the EKS clusters' authentication mode, one for all (`API_AND_CONFIG_MAP`) or by cluster
 *   (`acme-staging=API,acme-dr=CONFIG_MAP`). Default: unknown, checked at deploy time (docs/adr/0047).
 * - `eksAwsAuthClusters` (comma-separated): clusters whose deployer access goes through the aws-auth ConfigMap
 *   instead of an access entry; the stack outputs what to add there.
 * - `gitHostUrls`: GitHub Enterprise Server, self-managed GitLab: `github=https://ghe.example.com/api/v3,gitlab=...`,
 *   each host's API URL (its sign-in URL derived, or `github.oauth=...`); infra/bin/git-host-urls.ts, docs/adr/0117.
 */
export const CONTEXT = {
  config: 'config',
  stackName: 'stackName',
  account: 'account',
  region: 'region',
  deployerVpcId: 'deployerVpcId',
  sourceConnectionArns: 'sourceConnectionArns',
  eksAuthenticationMode: 'eksAuthenticationMode',
  eksAwsAuthClusters: 'eksAwsAuthClusters',
  /** CloudWatch alarms named with this prefix become incidents (ADR 0099). */
  incidentAlarmPrefix: 'incidentAlarmPrefix',
  gitHostUrls: 'gitHostUrls',
} as const;

export interface CreateAppOptions {
  /** Absolute path of the Stepline checkout. */
  readonly projectRoot: string;
  /** Passed to the App (context, outdir). */
  readonly appProps?: AppProps;
  /** The workflow definition. @default `<projectRoot>/statemachines/pipeline.asl.json` */
  readonly definitionFile?: string;
  /** Register the cdk-nag packs, so that any unacknowledged finding fails synth. @default true */
  readonly nag?: boolean;
}

/** Builds the Stepline CDK app: reads the configuration named by the context and composes the stack. */
export function createApp(options: CreateAppOptions): { app: App; stack: SteplineStack } {
  const app = new App(options.appProps);
  const context = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const { file, config } = loadConfig(options.projectRoot, context(CONTEXT.config) ?? 'stepline.config.json');
  const account = context(CONTEXT.account);
  const region = context(CONTEXT.region);
  const vpcId = context(CONTEXT.deployerVpcId);
  const connections = context(CONTEXT.sourceConnectionArns);
  const alarmPrefix = context(CONTEXT.incidentAlarmPrefix);
  const gitHostUrls = parseGitHostUrls(app.node.tryGetContext(CONTEXT.gitHostUrls), CONTEXT.gitHostUrls);
  if (vpcId && (!account || !region)) {
    throw new InfraError(
      `context ${CONTEXT.deployerVpcId} needs ${CONTEXT.account} and ${CONTEXT.region} (the VPC is looked up)`,
    );
  }

  const stack = new SteplineStack(app, context(CONTEXT.stackName) ?? 'Stepline', {
    description: 'Stepline: serverless CI/CD for Kubernetes on AWS (webhooks, Step Functions, CodeBuild, EKS)',
    ...(account || region ? { env: { account, region } } : {}),
    projectRoot: options.projectRoot,
    config,
    configFile: file,
    ...(options.definitionFile ? { definitionFile: options.definitionFile } : {}),
    ...(vpcId ? { deployerVpcId: vpcId } : {}),
    ...(connections ? { sourceConnectionArns: connections.split(',').map((arn) => arn.trim()) } : {}),
    eksAuthenticationModes: parseAuthenticationModes(context(CONTEXT.eksAuthenticationMode)),
    eksAwsAuthClusters: (context(CONTEXT.eksAwsAuthClusters) ?? '')
      .split(',')
      .map((cluster) => cluster.trim())
      .filter(Boolean),
    ...(alarmPrefix ? { incidentAlarmPrefix: alarmPrefix } : {}),
    gitHostUrls,
  });
  if (options.nag !== false) addNagPacks(app);
  return { app, stack };
}
