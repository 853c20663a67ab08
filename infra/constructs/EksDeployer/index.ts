import { Annotations, ArnFormat, Aws, CfnCondition, type CfnResource, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { SteplineConfig } from '../../../core/config';
import { STATUS_ENV } from '../../../core/status/contracts';
import { InfraError } from '../../errors';
import {
  type GitHostApiUrls,
  gitHostApiEnvironment,
  SteplineFunction,
  type SteplineFunctionVpcPlacement,
} from '../SteplineFunction';

export {
  AUTHENTICATION_MODES,
  type AuthenticationMode,
  AuthenticationModeCheck,
  AWS_AUTH_USERNAME,
  DEPLOYER_GROUP,
  parseAuthenticationModes,
  switchModeCommand,
} from './cluster-access';

import {
  type AuthenticationMode,
  AuthenticationModeCheck,
  AWS_AUTH_USERNAME,
  configMapOnlyError,
  DEPLOYER_GROUP,
  outputAwsAuthEntry,
} from './cluster-access';
import { GITOPS_READER_GROUP, type GitOpsReadTarget, outputGitOpsReader } from './gitops-access';

export {
  GITOPS_READER_GROUP,
  GITOPS_READER_ROLE,
  type GitOpsReadTarget,
  gitopsReaderManifest,
  gitopsReadTargets,
} from './gitops-access';

/** The EKS access policy the deployer gets, scoped to the configured namespaces. */
export const EDIT_POLICY = 'AmazonEKSEditPolicy';

/** One EKS cluster the configuration deploys to, and the namespaces its environments use there. */
export interface DeployTarget {
  readonly cluster: string;
  /** Null: the region Stepline is deployed in. */
  readonly region: string | null;
  readonly namespaces: readonly string[];
  /** Environments on this cluster that may apply cluster-scoped kinds (which a namespace-scoped policy cannot). */
  readonly clusterScoped: readonly { readonly environment: string; readonly kinds: readonly string[] }[];
}

/**
 * The EKS clusters of a configuration with the namespaces of their environments. Throws InfraError when an
 * environment's cluster is `{type: "kubeconfig"}`: that is local-only (`npm start`), since a Lambda function has no
 * kubeconfig, and such an environment could never be deployed from AWS (docs/adr/0049).
 */
export function deployTargets(config: SteplineConfig): DeployTarget[] {
  refuseLocalOnlyClusters(config);
  const byCluster = new Map<
    string,
    {
      cluster: string;
      region: string | null;
      namespaces: Set<string>;
      clusterScoped: DeployTarget['clusterScoped'][number][];
    }
  >();
  for (const repository of config.repositories) {
    for (const [name, environment] of Object.entries(repository.environments)) {
      if (environment.cluster.type !== 'eks') continue; // refused above: kubeconfig clusters are local-only
      const region = environment.cluster.region ?? null;
      const key = `${region ?? ''}/${environment.cluster.name}`;
      const target = byCluster.get(key) ?? {
        cluster: environment.cluster.name,
        region,
        namespaces: new Set<string>(),
        clusterScoped: [],
      };
      target.namespaces.add(environment.namespace);
      for (const namespace of environment.allowedNamespaces) target.namespaces.add(namespace);
      if (environment.clusterScopedKinds.length > 0) {
        target.clusterScoped.push({ environment: `${repository.name}/${name}`, kinds: environment.clusterScopedKinds });
      }
      byCluster.set(key, target);
    }
  }
  return [...byCluster.values()]
    .map((t) => ({
      cluster: t.cluster,
      region: t.region,
      namespaces: [...t.namespaces].sort(),
      clusterScoped: t.clusterScoped,
    }))
    .sort((a, b) => a.cluster.localeCompare(b.cluster) || (a.region ?? '').localeCompare(b.region ?? ''));
}

/** Throws InfraError naming each repository and environment whose cluster only the local runtime can reach. */
export function refuseLocalOnlyClusters(config: SteplineConfig): void {
  const localOnly = config.repositories.flatMap((repository) =>
    Object.entries(repository.environments)
      .filter(([, environment]) => environment.cluster.type === 'kubeconfig')
      .map(([name]) => `environment "${name}" of ${repository.name}`),
  );
  if (localOnly.length === 0) return;
  throw new InfraError(
    `${localOnly.join(', ')}: cluster {"type": "kubeconfig"} is local-only (npm start); the AWS app deploys from ` +
      'Lambda functions, which have no kubeconfig. Give the environment {"type": "eks", "name": "<cluster>"} ' +
      '(npm start deploys every environment to its one local target, the simulated cluster or --kubeconfig, ' +
      'whatever its cluster says), or synthesize from another ' +
      'configuration file with -c config=<file>.',
  );
}

export interface EksDeployerProps {
  /** Absolute path of the Stepline checkout (functions/deploy, rollout and rollback are bundled from it). */
  readonly projectRoot: string;
  /** The clusters and namespaces to deploy to (see `deployTargets`). */
  readonly targets: readonly DeployTarget[];
  /** Lets the role read the rendered manifests (BuildProjects.grantReadManifests). */
  readonly grantReadManifests?: (grantee: iam.IGrantable) => void;
  /** Places the functions in a VPC, to reach clusters whose API endpoint is private. @default - not in a VPC */
  readonly vpcPlacement?: SteplineFunctionVpcPlacement;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The authentication mode of clusters, by name (`*`: every cluster), as the operator declares it (context
   * `eksAuthenticationMode`). A declared CONFIG_MAP fails synth, naming the command that switches the cluster.
   * @default - unknown: a custom resource checks each cluster's mode at deploy time, before its access entry
   */
  readonly authenticationModes?: Readonly<Record<string, AuthenticationMode>>;
  /**
   * Clusters whose deployer access goes through the aws-auth ConfigMap (context `eksAwsAuthClusters`): no access
   * entry; the stack outputs the mapRoles item, the eksctl command and the RoleBindings to add. @default - none
   */
  readonly awsAuthClusters?: readonly string[];
  /**
   * Amazon Managed Prometheus workspaces the canary analyses query (see `prometheusWorkspaces`): the role may
   * `aps:QueryMetrics` on them and nothing else in AMP. @default - none
   */
  readonly prometheusWorkspaces?: readonly { readonly region: string; readonly workspaceId: string }[];
  /**
   * The Git host tokens, for environments with a GitOps delivery (ADR 0103): the deploy, rollout and rollback
   * functions may read the secret and write to configuration repositories with it. Give it only when the
   * configuration has such an environment (`hasGitOpsDelivery`). @default - none: a GitOps environment fails
   */
  readonly gitHostTokens?: secretsmanager.ISecret;
  /** The platform's run links (`<url>/runs/<execution>`), named in the commits it makes. @default - none */
  readonly runLinkUrl?: string;
  /**
   * The Git hosts' API base URLs the configuration repositories are written through (GitHub Enterprise Server,
   * self-managed GitLab), as `STEPLINE_<HOST>_API_URL`; used with `gitHostTokens` only (ADR 0117).
   * @default - the hosts' own
   */
  readonly gitHostApiUrls?: GitHostApiUrls;
  /**
   * The Argo CD Applications and Flux Kustomizations that GitOps environments are checked at (`gitopsReadTargets`):
   * the access entry of their clusters carries `GITOPS_READER_GROUP`, and the stack outputs the Role and RoleBinding
   * that let that group read them (ADR 0108). @default - none
   */
  readonly gitopsReaders?: readonly GitOpsReadTarget[];
}

/** Whether any environment of the configuration hands its releases to GitOps. */
export function hasGitOpsDelivery(config: SteplineConfig): boolean {
  return config.repositories.some((r) => Object.values(r.environments).some((e) => e.delivery?.type === 'gitops'));
}

/**
 * The Amazon Managed Prometheus workspaces that a configuration's analyses query with SigV4 (an `address` of
 * `https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>`), for `aps:QueryMetrics` on exactly those.
 */
export function prometheusWorkspaces(config: SteplineConfig): { region: string; workspaceId: string }[] {
  const found = new Map<string, { region: string; workspaceId: string }>();
  for (const repository of config.repositories) {
    for (const environment of Object.values(repository.environments)) {
      const strategy = environment.strategy;
      if (!strategy || strategy.type === 'rolling') continue;
      const analyses =
        strategy.type === 'canary'
          ? [strategy.analysis]
          : [strategy.prePromotionAnalysis, strategy.postPromotionAnalysis];
      for (const metric of analyses.flatMap((a) => a?.metrics ?? [])) {
        if (!('prometheus' in metric.provider) || !metric.provider.prometheus.sigv4) continue;
        const id = /\/workspaces\/(ws-[A-Za-z0-9-]+)/.exec(metric.provider.prometheus.address)?.[1];
        if (!id) continue;
        const region = metric.provider.prometheus.sigv4.region;
        found.set(`${region}/${id}`, { region, workspaceId: id });
      }
    }
  }
  return [...found.values()].sort((a, b) =>
    `${a.region}/${a.workspaceId}`.localeCompare(`${b.region}/${b.workspaceId}`),
  );
}

/**
 * Deploys to EKS: the deploy, rollout and rollback functions, which share one role, and for every configured
 * cluster an EKS access entry for that role with AmazonEKSEditPolicy scoped to the namespaces the configuration's
 * environments use there. The role may describe those clusters (endpoint and certificate) and nothing else in EKS.
 * A cluster with a region of its own gets its access entry only when the stack is deployed in that region.
 * Access entries need the cluster's authentication mode to be API or API_AND_CONFIG_MAP (docs/adr/0047): a mode
 * declared CONFIG_MAP fails synth; an undeclared one is checked at deploy time; `awsAuthClusters` opt out.
 */
export class EksDeployer extends Construct {
  public readonly role: iam.Role;
  public readonly deployFunction: SteplineFunction;
  public readonly rolloutFunction: SteplineFunction;
  public readonly rollbackFunction: SteplineFunction;
  /** One measurement of a canary or blue-green step's analysis (Prometheus, Kubernetes Jobs; ADR 0068). */
  public readonly analysisFunction: SteplineFunction;
  public readonly accessEntries: readonly eks.CfnAccessEntry[];
  /** The deploy-time check of clusters whose authentication mode is not declared, when there is one. */
  private modeCheck?: AuthenticationModeCheck;

  public constructor(scope: Construct, id: string, props: EksDeployerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Stepline deployer: server-side apply, rollout checks and rollbacks in the configured namespaces',
    });
    const common = {
      projectRoot: props.projectRoot,
      role: this.role,
      // They throw ManifestInvalid, RolloutFailed, ... for the workflow to Catch: outcomes, not failures.
      errorsAreOutcomes: true,
      ...(props.vpcPlacement ? { vpcPlacement: props.vpcPlacement } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    };
    this.deployFunction = new SteplineFunction(this, 'Deploy', {
      ...common,
      name: 'deploy',
      description: 'Stepline: applies the rendered manifests with the new image (server-side apply)',
      timeout: Duration.minutes(5),
    });
    this.rolloutFunction = new SteplineFunction(this, 'Rollout', {
      ...common,
      name: 'rollout',
      description: 'Stepline: checks the rollout of a deploy once',
      timeout: Duration.minutes(1),
    });
    this.rollbackFunction = new SteplineFunction(this, 'Rollback', {
      ...common,
      name: 'rollback',
      description: 'Stepline: re-applies the last good revision of an environment',
      timeout: Duration.minutes(5),
    });
    this.analysisFunction = new SteplineFunction(this, 'Analysis', {
      ...common,
      name: 'analysis',
      description: 'Stepline: measures a canary or blue-green step (Prometheus, Kubernetes Jobs, CloudWatch results)',
      timeout: Duration.minutes(1),
    });
    const workspaces = (props.prometheusWorkspaces ?? []).map((w) =>
      stack.formatArn({ service: 'aps', region: w.region, resource: 'workspace', resourceName: w.workspaceId }),
    );
    if (workspaces.length > 0) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['aps:QueryMetrics'], resources: workspaces }));
    }
    props.grantReadManifests?.(this.role);
    if (props.gitHostTokens) {
      props.gitHostTokens.grantRead(this.role);
      for (const fn of [this.deployFunction, this.rolloutFunction, this.rollbackFunction]) {
        fn.function.addEnvironment(STATUS_ENV.tokensSecret, props.gitHostTokens.secretArn);
        if (props.runLinkUrl) fn.function.addEnvironment(STATUS_ENV.runLinkUrl, props.runLinkUrl);
        for (const [name, url] of Object.entries(gitHostApiEnvironment(props.gitHostApiUrls))) {
          fn.function.addEnvironment(name, url);
        }
      }
    }

    const entries: eks.CfnAccessEntry[] = [];
    const clusterArns: string[] = [];
    for (const target of props.targets) {
      const clusterArn = stack.formatArn({
        service: 'eks',
        region: target.region ?? Aws.REGION,
        resource: 'cluster',
        resourceName: target.cluster,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      clusterArns.push(clusterArn);
      for (const scoped of target.clusterScoped) {
        Annotations.of(this).addWarningV2(
          'stepline:eks-cluster-scoped-kinds',
          `environment ${scoped.environment} may apply ${scoped.kinds.join(', ')}, which the namespace-scoped ` +
            `${EDIT_POLICY} cannot: in ${target.cluster}, bind a ClusterRole for those kinds to the group ` +
            `${DEPLOYER_GROUP} (on an aws-auth cluster, the user ${AWS_AUTH_USERNAME}) yourself`,
        );
      }
      const entry = this.grantAccess(target, clusterArn, props);
      if (entry) entries.push(entry);
    }
    this.accessEntries = entries;
    if (clusterArns.length > 0) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: clusterArns }),
      );
    }
  }

  /**
   * Gives the role access to one cluster: an access entry (after a deploy-time check of the cluster's authentication
   * mode when the app does not know it), or, for a cluster kept on the aws-auth ConfigMap, outputs that say what to
   * add there. Returns the access entry, if one is created.
   */
  private grantAccess(target: DeployTarget, clusterArn: string, props: EksDeployerProps): eks.CfnAccessEntry | null {
    const stack = Stack.of(this);
    const label = `${target.region ?? 'here'}-${target.cluster}`;
    const region = target.region ?? Aws.REGION;
    const readers = props.gitopsReaders?.find((r) => r.cluster === target.cluster && r.region === target.region);
    if (props.awsAuthClusters?.includes(target.cluster)) {
      outputAwsAuthEntry(this, label, { ...target, region }, this.role.roleArn);
      if (readers) outputGitOpsReader(this, label, readers, { kind: 'User', name: AWS_AUTH_USERNAME });
      return null;
    }
    const mode = props.authenticationModes?.[target.cluster] ?? props.authenticationModes?.['*'];
    if (mode === 'CONFIG_MAP') {
      throw configMapOnlyError(
        target.cluster,
        target.region ?? (Token.isUnresolved(stack.region) ? undefined : stack.region),
      );
    }
    if (target.region && !Token.isUnresolved(stack.region) && stack.region !== target.region) {
      Annotations.of(this).addWarningV2(
        'stepline:eks-access-entry-other-region',
        `cluster ${target.cluster} is in ${target.region}, not ${stack.region}: create its access entry there ` +
          `(aws eks create-access-entry --region ${target.region} --cluster-name ${target.cluster} --principal-arn <DeployerRoleArn>)`,
      );
      return null;
    }
    const entry = new eks.CfnAccessEntry(this, `Access-${label}`, {
      clusterName: target.cluster,
      principalArn: this.role.roleArn,
      type: 'STANDARD',
      // What no access policy grants, the cluster's RBAC grants these groups: the operator's own Roles bind
      // DEPLOYER_GROUP; reading an Application or a Kustomization is the GitOps readers' Role (gitops-access.ts).
      kubernetesGroups: readers ? [DEPLOYER_GROUP, GITOPS_READER_GROUP] : [DEPLOYER_GROUP],
      accessPolicies: [
        {
          policyArn: `arn:${Aws.PARTITION}:eks::aws:cluster-access-policy/${EDIT_POLICY}`,
          accessScope: { type: 'namespace', namespaces: [...target.namespaces] },
        },
      ],
    });
    // An environment-agnostic stack learns its region at deploy time: a cluster of another region only there.
    const condition =
      target.region && Token.isUnresolved(stack.region)
        ? new CfnCondition(this, `InRegion-${label}`, { expression: Fn.conditionEquals(Aws.REGION, target.region) })
        : undefined;
    if (condition) entry.cfnOptions.condition = condition;
    if (readers) outputGitOpsReader(this, label, readers, { kind: 'Group', name: GITOPS_READER_GROUP });
    if (!mode) {
      this.modeCheck ??= new AuthenticationModeCheck(this, 'AuthenticationModeCheck');
      const check = this.modeCheck.forCluster(`Check-${label}`, target.cluster, region, clusterArn);
      if (condition) (check.node.defaultChild as CfnResource).cfnOptions.condition = condition;
      entry.node.addDependency(check);
    }
    return entry;
  }
}
