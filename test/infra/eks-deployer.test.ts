import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../core/config';
import {
  deployTargets,
  EksDeployer,
  type EksDeployerProps,
  parseAuthenticationModes,
  prometheusWorkspaces,
} from '../../infra/constructs/EksDeployer';
import { InfraError } from '../../infra/errors';
import { evaluate, logicalIdOf, nagFindings, resourcesOfType, scratchProject, testStack } from './helpers';

const config = validateConfig(
  {
    version: 1,
    repositories: [
      {
        provider: 'github',
        name: 'acme/shop',
        build: { imageRepository: 'acme/shop' },
        environments: {
          staging: { cluster: { type: 'eks', name: 'acme-staging' }, namespace: 'shop', manifests: 'deploy/staging' },
          production: {
            cluster: { type: 'eks', name: 'acme-production', region: 'eu-west-1' },
            namespace: 'shop',
            allowedNamespaces: ['shop-jobs'],
            manifests: 'deploy/production',
          },
        },
      },
      {
        provider: 'gitlab',
        name: 'acme/billing',
        build: { imageRepository: 'acme/billing' },
        environments: {
          staging: { cluster: { type: 'eks', name: 'acme-staging' }, namespace: 'billing', manifests: 'k8s' },
          dr: {
            cluster: { type: 'eks', name: 'acme-dr', region: 'us-east-1' },
            namespace: 'billing',
            clusterScopedKinds: ['Namespace'],
            manifests: 'k8s',
          },
        },
      },
    ],
  },
  'test',
);

function synth(props: Partial<EksDeployerProps> = {}, env = true) {
  const stack = testStack(env ? {} : { agnostic: true });
  const deployer = new EksDeployer(stack, 'Deployer', {
    projectRoot: scratchProject(['deploy', 'rollout', 'rollback', 'analysis']),
    targets: deployTargets(config),
    ...props,
  });
  return { stack, deployer, template: Template.fromStack(stack) };
}

describe('deployTargets', () => {
  it('groups the EKS environments by cluster with the namespaces they use there', () => {
    expect(deployTargets(config)).toEqual([
      {
        cluster: 'acme-dr',
        region: 'us-east-1',
        namespaces: ['billing'],
        clusterScoped: [{ environment: 'acme/billing/dr', kinds: ['Namespace'] }],
      },
      { cluster: 'acme-production', region: 'eu-west-1', namespaces: ['shop', 'shop-jobs'], clusterScoped: [] },
      { cluster: 'acme-staging', region: null, namespaces: ['billing', 'shop'], clusterScoped: [] },
    ]);
  });
});

describe('refuseLocalOnlyClusters', () => {
  it('refuses a kubeconfig cluster for the AWS app, naming the repository and environment and saying it is local-only', () => {
    // Prepare
    const withLaptop = validateConfig(
      {
        version: 1,
        repositories: [
          {
            provider: 'gitlab',
            name: 'acme/platform/billing',
            build: { imageRepository: 'acme/billing' },
            environments: {
              staging: { cluster: { type: 'eks', name: 'acme-staging' }, namespace: 'billing', manifests: 'k8s' },
              laptop: { cluster: { type: 'kubeconfig', context: 'kind' }, namespace: 'billing', manifests: 'k8s' },
            },
          },
        ],
      },
      'test',
    );

    // Act + Assess
    expect(() => deployTargets(withLaptop)).toThrow(InfraError);
    expect(() => deployTargets(withLaptop)).toThrow(
      /^environment "laptop" of acme\/platform\/billing: cluster \{"type": "kubeconfig"\} is local-only \(npm start\); the AWS app deploys from Lambda functions, which have no kubeconfig/,
    );
  });
});

describe('EksDeployer', () => {
  // Clusters declared to take access entries: no deploy-time check (see "the clusters' authentication mode").
  const shared = synth({ authenticationModes: { '*': 'API_AND_CONFIG_MAP' } });
  const json = shared.template.toJSON() as never;

  it('creates an access entry for the shared role per cluster, with AmazonEKSEditPolicy scoped to its namespaces', () => {
    // Act
    const entries = resourcesOfType(json, 'AWS::EKS::AccessEntry').map(([, p]) => evaluate(p));

    // Assess
    const role = `getatt:${logicalIdOf(shared.deployer.role)}.Arn`;
    expect(entries).toEqual(
      [
        ['acme-production', ['shop', 'shop-jobs']],
        ['acme-staging', ['billing', 'shop']],
      ].map(([cluster, namespaces]) => ({
        ClusterName: cluster,
        PrincipalArn: role,
        Type: 'STANDARD',
        KubernetesGroups: ['stepline-deployers'],
        AccessPolicies: [
          {
            PolicyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy',
            AccessScope: { Type: 'namespace', Namespaces: namespaces },
          },
        ],
      })),
    );
  });

  it('runs the deploy, rollout, rollback and analysis functions as that one role', () => {
    const roles = resourcesOfType(json, 'AWS::Lambda::Function').map(([, fn]) => evaluate(fn.Role));
    expect(roles).toEqual(Array(4).fill(`getatt:${logicalIdOf(shared.deployer.role)}.Arn`));
  });

  it('lets the role query the Amazon Managed Prometheus workspaces the analyses name, and no other', () => {
    // Prepare
    const workspaces = prometheusWorkspaces(
      validateConfig(
        {
          version: 1,
          repositories: [
            {
              provider: 'github',
              name: 'acme/shop',
              build: { imageRepository: 'acme/shop' },
              environments: {
                production: {
                  cluster: { type: 'eks', name: 'acme-production' },
                  namespace: 'shop',
                  manifests: 'k8s',
                  strategy: {
                    type: 'canary',
                    steps: [{ weight: 20 }],
                    analysis: {
                      metrics: [
                        {
                          name: 'errors',
                          provider: {
                            prometheus: {
                              address: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1234abcd',
                              query: 'sum(rate(errors[1m]))',
                              sigv4: { region: 'eu-west-1' },
                            },
                          },
                          successCondition: 'result[0] < 1',
                        },
                      ],
                    },
                  },
                },
              },
            },
          ],
        },
        'test',
      ),
    );

    // Act
    const { template } = synth({ prometheusWorkspaces: workspaces });
    const statements = resourcesOfType(template.toJSON() as never, 'AWS::IAM::Policy').flatMap(
      ([, p]) =>
        (evaluate(p.PolicyDocument) as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement,
    );

    // Assess
    expect(workspaces).toEqual([{ region: 'eu-west-1', workspaceId: 'ws-1234abcd' }]);
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('aps:'))).toEqual([
      expect.objectContaining({
        Action: 'aps:QueryMetrics',
        Resource: 'arn:aws:aps:eu-west-1:123456789012:workspace/ws-1234abcd',
      }),
    ]);
  });

  it('lets the role describe the configured clusters and nothing else in EKS', () => {
    // Act
    const statements = resourcesOfType(json, 'AWS::IAM::Policy').flatMap(
      ([, p]) =>
        (evaluate(p.PolicyDocument) as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement,
    );

    // Assess
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('eks:'))).toEqual([
      expect.objectContaining({
        Action: 'eks:DescribeCluster',
        Resource: [
          'arn:aws:eks:us-east-1:123456789012:cluster/acme-dr',
          'arn:aws:eks:eu-west-1:123456789012:cluster/acme-production',
          'arn:aws:eks:eu-west-1:123456789012:cluster/acme-staging',
        ],
      }),
    ]);
  });

  it('warns about a cluster in another region and about cluster-scoped kinds the policy cannot apply', () => {
    const annotations = Annotations.fromStack(shared.stack);
    annotations.hasWarning('/Test/Deployer', Match.stringLikeRegexp('acme-dr is in us-east-1, not eu-west-1'));
  });

  it("creates a regional cluster's entry only where an environment-agnostic stack is deployed in that region", () => {
    // Act
    const { stack, template } = synth({ authenticationModes: { '*': 'API' } }, false);

    // Assess
    const entries = resourcesOfType(template.toJSON() as never, 'AWS::EKS::AccessEntry');
    expect(entries).toHaveLength(3);
    const conditions = (template.toJSON() as { Conditions: Record<string, unknown> }).Conditions;
    expect(Object.values(conditions)).toEqual(
      expect.arrayContaining([
        { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] },
        { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
      ]),
    );
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning('/Test/Deployer', Match.stringLikeRegexp('acme/billing/dr may apply Namespace'));
    annotations.hasWarning('/Test/Deployer', Match.stringLikeRegexp('to the group stepline-deployers'));
    expect(annotations.findWarning('*', Match.stringLikeRegexp('is in us-east-1'))).toEqual([]);
  });

  it('places the functions in the VPC when asked, with the VPC access policy on the shared role', () => {
    // Prepare
    const stack = testStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-1',
      availabilityZones: ['eu-west-1a'],
      privateSubnetIds: ['subnet-1'],
    });

    // Act
    new EksDeployer(stack, 'Deployer', {
      projectRoot: scratchProject(['deploy', 'rollout', 'rollback', 'analysis']),
      targets: deployTargets(config),
      authenticationModes: { '*': 'API' },
      vpcPlacement: { vpc },
    });
    const template = Template.fromStack(stack);

    // Assess
    template.allResourcesProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: ['subnet-1'], SecurityGroupIds: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'],
          ],
        },
      ],
    });
    expect(nagFindings(stack.node.root)).toEqual([]);
  });

  it('raises no cdk-nag finding that it does not acknowledge', () => {
    expect(nagFindings(shared.stack.node.root)).toEqual([]);
  });
});

describe("the clusters' authentication mode", () => {
  it('checks at deploy time, before its access entry, each cluster whose mode the app does not know', () => {
    // Act
    const { template, deployer } = synth({ authenticationModes: { 'acme-production': 'API' } });

    // Assess
    const json = template.toJSON() as never;
    const checks = resourcesOfType(json, 'Custom::EksAuthenticationMode');
    expect(checks.map(([, p]) => evaluate(p))).toEqual([
      {
        ServiceToken: expect.stringMatching(/^getatt:DeployerAuthenticationModeCheckFunction.*\.Arn$/),
        ClusterName: 'acme-staging',
        Region: 'eu-west-1',
      },
    ]);
    template.hasResource('AWS::EKS::AccessEntry', {
      Properties: Match.objectLike({ ClusterName: 'acme-staging' }),
      DependsOn: [checks[0]![0]],
    });
    const checkRole = resourcesOfType(json, 'AWS::IAM::Policy')
      .filter(([, p]) => !(evaluate(p.Roles) as string[]).includes(`ref:${logicalIdOf(deployer.role)}`))
      .flatMap(
        ([, p]) => (evaluate(p.PolicyDocument) as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
      )
      .filter((st) => st.Action === 'eks:DescribeCluster');
    expect(checkRole).toEqual([
      expect.objectContaining({ Resource: 'arn:aws:eks:eu-west-1:123456789012:cluster/acme-staging' }),
    ]);
    expect(nagFindings(deployer.node.root)).toEqual([]);
  });

  it('fails synth for a cluster declared CONFIG_MAP, naming it and the command that switches its mode', () => {
    // Act + Assess
    expect(() => synth({ authenticationModes: { '*': 'API', 'acme-staging': 'CONFIG_MAP' } })).toThrow(
      'EKS cluster acme-staging uses authentication mode CONFIG_MAP (context eksAuthenticationMode), where ' +
        'AWS::EKS::AccessEntry cannot be created and the stack would roll back. Either switch the cluster (one way; ' +
        'the aws-auth ConfigMap keeps working): aws eks update-cluster-config --region eu-west-1 --name ' +
        'acme-staging --access-config authenticationMode=API_AND_CONFIG_MAP -- then declare ' +
        '-c eksAuthenticationMode=acme-staging=API_AND_CONFIG_MAP; or keep it and give the deployer access through ' +
        'the aws-auth ConfigMap: -c eksAwsAuthClusters=acme-staging (the stack outputs the entry to add).',
    );
  });

  it('creates no access entry for a cluster kept on the aws-auth ConfigMap, and outputs what to add there', () => {
    // Act
    const { template, deployer } = synth({
      authenticationModes: { '*': 'CONFIG_MAP' },
      awsAuthClusters: ['acme-staging', 'acme-production', 'acme-dr'],
    });

    // Assess
    const json = template.toJSON() as { Outputs: Record<string, { Value: unknown; Description: string }> };
    template.resourceCountIs('AWS::EKS::AccessEntry', 0);
    template.resourceCountIs('Custom::EksAuthenticationMode', 0);
    const outputs = Object.entries(json.Outputs)
      .filter(([id]) => id.includes('hereacmestaging'))
      .map(([, o]) => evaluate(o.Value));
    const role = `getatt:${logicalIdOf(deployer.role)}.Arn`;
    expect(outputs).toEqual([
      `- {rolearn: ${role}, username: stepline-deployer}`,
      `eksctl create iamidentitymapping --cluster acme-staging --region eu-west-1 --arn ${role} --username stepline-deployer`,
      'kubectl create rolebinding stepline-deployer --clusterrole=edit --user=stepline-deployer --namespace=billing && ' +
        'kubectl create rolebinding stepline-deployer --clusterrole=edit --user=stepline-deployer --namespace=shop',
    ]);
  });
});

describe('parseAuthenticationModes', () => {
  it.each([
    ['one mode for every cluster', 'API_AND_CONFIG_MAP', { '*': 'API_AND_CONFIG_MAP' }],
    ['modes by cluster', 'acme-staging=API, acme-dr=CONFIG_MAP', { 'acme-staging': 'API', 'acme-dr': 'CONFIG_MAP' }],
    ['nothing', undefined, {}],
  ])('reads %s', (_case, value, expected) => {
    expect(parseAuthenticationModes(value)).toEqual(expected);
  });

  it('refuses a mode EKS does not have, naming the item', () => {
    expect(() => parseAuthenticationModes('acme-staging=api')).toThrow(
      'context eksAuthenticationMode: "acme-staging=api" is not MODE or cluster=MODE, MODE one of API, API_AND_CONFIG_MAP, CONFIG_MAP',
    );
  });
});
