import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../core/config';
import { STATUS_ENV } from '../../core/status/contracts';
import { deployTargets, EksDeployer, hasGitOpsDelivery } from '../../infra/constructs/EksDeployer';
import { scratchProject, testStack } from './helpers';

/** EksDeployer with GitOps environments (ADR 0103): the Git host tokens, only when the configuration needs them. */

const environments = (delivery?: unknown) => ({
  production: {
    cluster: { type: 'eks', name: 'acme-production' },
    namespace: 'shop',
    manifests: 'deploy/production',
    ...(delivery ? { delivery } : {}),
  },
});
const config = (delivery?: unknown) =>
  validateConfig(
    {
      version: 1,
      repositories: [
        {
          provider: 'github',
          name: 'acme/shop',
          build: { imageRepository: 'acme/shop' },
          environments: environments(delivery),
        },
      ],
    },
    'test',
  );
const GITOPS = {
  type: 'gitops',
  repository: { provider: 'github', name: 'acme/deploy' },
  path: 'apps/shop',
  format: { type: 'kustomize' },
  controller: { kind: 'Application', name: 'shop' },
};

describe('EksDeployer with a GitOps delivery', () => {
  it('tells whether a configuration has a GitOps environment', () => {
    expect(hasGitOpsDelivery(config(GITOPS))).toBe(true);
    expect(hasGitOpsDelivery(config())).toBe(false);
  });

  it('gives the deploy, rollout and rollback functions the tokens secret and the run links, and the role read access to it', () => {
    const stack = testStack({});
    const secret = new secretsmanager.Secret(stack, 'Tokens');
    new EksDeployer(stack, 'Deployer', {
      projectRoot: scratchProject(['deploy', 'rollout', 'rollback', 'analysis']),
      targets: deployTargets(config(GITOPS)),
      gitHostTokens: secret,
      runLinkUrl: 'https://api.example.test',
    });
    const template = Template.fromStack(stack);
    const withTokens = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ [STATUS_ENV.tokensSecret]: Match.anyValue() }) } },
    });
    expect(Object.keys(withTokens).length).toBe(3);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Effect: 'Allow',
          }),
        ]),
      },
    });
  });

  it('gives them nothing of the kind without the secret', () => {
    const stack = testStack({});
    new EksDeployer(stack, 'Deployer', {
      projectRoot: scratchProject(['deploy', 'rollout', 'rollback', 'analysis']),
      targets: deployTargets(config()),
    });
    const template = Template.fromStack(stack);
    const withTokens = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ [STATUS_ENV.tokensSecret]: Match.anyValue() }) } },
    });
    expect(Object.keys(withTokens)).toEqual([]);
  });
});
