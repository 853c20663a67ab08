import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { BuildProjects, EXPORTED_VARIABLES } from '../../infra/constructs/BuildProjects';
import { evaluate, nagFindings, resourcesOfType, testStack } from './helpers';

function synth(props: Partial<ConstructorParameters<typeof BuildProjects>[2]> = {}) {
  const stack = testStack();
  const build = new BuildProjects(stack, 'Build', {
    imageRepositories: ['shop/api', 'shop/web', 'shop/api'],
    ...props,
  });
  return { stack, build, template: Template.fromStack(stack) };
}

describe('BuildProjects', () => {
  // One synth for the tests that only read the template: each synth takes about a second.
  const shared = synth();

  it('creates one ECR repository per configured image repository, scanning on push with immutable tags', () => {
    // Act
    const { template } = shared;

    // Assess
    template.resourceCountIs('AWS::ECR::Repository', 2);
    for (const name of ['shop/api', 'shop/web']) {
      template.hasResourceProperties('AWS::ECR::Repository', {
        RepositoryName: name,
        ImageScanningConfiguration: { ScanOnPush: true },
        ImageTagMutability: 'IMMUTABLE',
        EncryptionConfiguration: { EncryptionType: 'KMS', KmsKey: Match.anyValue() },
        LifecyclePolicy: { LifecyclePolicyText: Match.stringLikeRegexp('"countNumber":500') },
      });
    }
  });

  it('expires untagged images first and keeps the newest 500 images', () => {
    // Prepare
    const { template } = shared;
    const [, repository] = resourcesOfType(template.toJSON() as never, 'AWS::ECR::Repository')[0]!;

    // Act
    const policy = JSON.parse((repository.LifecyclePolicy as { LifecyclePolicyText: string }).LifecyclePolicyText);

    // Assess
    expect(policy.rules).toEqual([
      expect.objectContaining({
        rulePriority: 1,
        selection: expect.objectContaining({ tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 1 }),
      }),
      expect.objectContaining({
        rulePriority: 2,
        selection: expect.objectContaining({ tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 500 }),
      }),
    ]);
  });

  it('runs the image build privileged and exports the image digest and manifests location', () => {
    // Act
    const { template, build } = shared;

    // Assess
    const id = build.stackLogicalId(build.buildProject);
    const [, project] = resourcesOfType(template.toJSON() as never, 'AWS::CodeBuild::Project').find(
      ([logicalId]) => logicalId === id,
    )!;
    expect(project.Environment).toMatchObject({ PrivilegedMode: true, Type: 'LINUX_CONTAINER' });
    const buildspec = JSON.parse((project.Source as { BuildSpec: string }).BuildSpec);
    expect(buildspec.env['exported-variables']).toEqual([...EXPORTED_VARIABLES]);
    expect(buildspec.phases.build.commands.join('\n')).toMatch(/docker build[\s\S]*docker push/);
    expect(project.EncryptionKey).toBeDefined();
    expect(evaluate(project.Cache)).toEqual({ Type: 'S3', Location: expect.stringMatching(/\/cache\/build$/) });
  });

  it('keeps the test project unprivileged unless asked', () => {
    // Act
    const { template } = shared;

    // Assess
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Description: Match.stringLikeRegexp('test suite'),
      Environment: Match.objectLike({ PrivilegedMode: false }),
    });
  });

  it('encrypts the artifacts bucket with the KMS key, blocks public access, refuses plain HTTP and logs access', () => {
    // Act
    const { template } = shared;

    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
          }),
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'artifacts/' },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('lets the build push only to the configured repositories and write only its cache and the manifests', () => {
    // Prepare
    const { template, build } = shared;
    const json = template.toJSON() as never;
    const roleId = build.stackLogicalId(build.buildProject.role!);

    // Act
    const statements = resourcesOfType(json, 'AWS::IAM::Policy')
      .filter(([, p]) => (evaluate(p.Roles) as string[]).includes(`ref:${roleId}`))
      .flatMap(
        ([, p]) =>
          (evaluate(p.PolicyDocument) as { Statement: { Action: string | string[]; Resource: string | string[] }[] })
            .Statement,
      );

    // Assess
    const pushTargets = statements
      .filter((s) => [s.Action].flat().includes('ecr:PutImage'))
      .flatMap((s) => [s.Resource].flat());
    expect(pushTargets.sort()).toEqual([
      expect.stringMatching(/^getatt:BuildRepositoryshopapi.*\.Arn$/),
      expect.stringMatching(/^getatt:BuildRepositoryshopweb.*\.Arn$/),
    ]);
    const writes = statements
      .filter((s) => [s.Action].flat().includes('s3:PutObject'))
      .flatMap((s) => [s.Resource].flat());
    expect(writes.sort()).toEqual([
      expect.stringMatching(/\/cache\/build\/\*$/),
      expect.stringMatching(/\/manifests\/\*$/),
    ]);
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('s3:') && a.includes('*'))).toEqual(
      [],
    );
  });

  it('gives the projects of fork pull requests roles that can write their logs and nothing else', () => {
    // Prepare
    const { template, build } = shared;
    const json = template.toJSON() as never;
    const projects = resourcesOfType(json, 'AWS::CodeBuild::Project');

    for (const untrusted of [build.untrustedBuildProject, build.untrustedTestProject]) {
      // Act
      const roleId = build.stackLogicalId(untrusted.role!);
      const actions = resourcesOfType(json, 'AWS::IAM::Policy')
        .filter(([, p]) => (evaluate(p.Roles) as string[]).includes(`ref:${roleId}`))
        .flatMap(([, p]) => (evaluate(p.PolicyDocument) as { Statement: { Action: string | string[] }[] }).Statement)
        .flatMap((s) => [s.Action].flat());
      const [, project] = projects.find(([logicalId]) => logicalId === build.stackLogicalId(untrusted))!;

      // Assess
      expect(
        actions.filter((a) => /^(ecr|s3|codeconnections|codestar-connections|secretsmanager|ssm):/.test(a)),
      ).toEqual([]);
      expect(actions).toEqual(expect.arrayContaining(['logs:PutLogEvents']));
      const cache: unknown = project.Cache ?? { Type: 'NO_CACHE' };
      expect(cache).toEqual({ Type: 'NO_CACHE' });
      expect(JSON.stringify(project.Environment)).not.toContain('ARTIFACTS_BUCKET');
    }
    const [, image] = projects.find(([logicalId]) => logicalId === build.stackLogicalId(build.untrustedBuildProject))!;
    const buildspec = (image.Source as { BuildSpec: string }).BuildSpec;
    expect(buildspec).toContain('docker build');
    expect(buildspec).not.toMatch(/docker (push|login)|s3 cp/);
  });

  it("lets the two trusted projects, not those of forks, check out through the given connections, with the actions of the ARN's service", () => {
    // Prepare
    const connection = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/abc';

    // Act
    const { template } = synth({ sourceConnectionArns: [connection] });

    // Assess
    const grants = resourcesOfType(template.toJSON() as never, 'AWS::IAM::Policy').flatMap(([, p]) =>
      (p.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement.filter(
        (s) => s.Resource === connection,
      ),
    );
    expect(grants).toHaveLength(2);
    for (const grant of grants) {
      expect(grant.Action).toEqual([
        'codeconnections:GetConnectionToken',
        'codeconnections:GetConnection',
        'codeconnections:UseConnection',
      ]);
    }
  });

  it('lets a reader of the manifests get them and list them, only under manifests/', () => {
    // Prepare
    const stack = testStack();
    const build = new BuildProjects(stack, 'Build', { imageRepositories: ['shop/api'] });
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

    // Act
    build.grantReadManifests(reader);

    // Assess
    const json = Template.fromStack(stack).toJSON() as never;
    const statements = resourcesOfType(json, 'AWS::IAM::Policy')
      .filter(([, p]) => (evaluate(p.Roles) as string[]).includes(`ref:${build.stackLogicalId(reader)}`))
      .flatMap(([, p]) => (evaluate(p.PolicyDocument) as { Statement: Record<string, unknown>[] }).Statement);
    const bucket = `getatt:${build.stackLogicalId(build.artifactsBucket)}.Arn`;
    expect(statements).toContainEqual({ Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucket}/manifests/*` });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: bucket,
      Condition: { StringLike: { 's3:prefix': 'manifests/*' } },
    });
    expect(statements.filter((s) => s.Action === 's3:ListBucket')).toHaveLength(1);
  });

  it('raises no cdk-nag finding that it does not acknowledge', () => {
    // Prepare
    const { stack } = synth({ testPrivileged: true });

    // Act
    const findings = nagFindings(stack.node.root);

    // Assess
    expect(findings).toEqual([]);
  });
});
