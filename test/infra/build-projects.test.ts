import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ManifestSource } from '../../adapters/aws/artifacts';
import { BuildProjects, EXPORTED_VARIABLES, imageBuildSpec } from '../../infra/constructs/BuildProjects';
import { type BuildDocument, CodeBuildService } from '../../local/services/codebuild';
import { BuildStore, type Db, openStateDb } from '../../local/store';
import { gitRepository, removeDir, tempDir } from '../local/runtime/support';
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

/**
 * The image build project's own buildspec, as CDK puts it in the template, run by the local CodeBuild with the
 * real AWS CLI against moto's S3 (moto_server from the machine's Python environment), and stand-ins for Docker
 * (no engine here). What it uploads is read back with the deploy function's own S3 source: the default buildspec
 * must put each environment's manifests where the deploy reads `<MANIFESTS_LOCATION>/<environment's manifests>`.
 */
describe("the image build's default buildspec", () => {
  const BUCKET = 'stepline-artifacts';
  const DIGEST = `sha256:${'ab'.repeat(32)}`;
  let moto: ChildProcess;
  let endpoint: string;
  let s3: S3Client;
  let state: string;
  let db: Db;
  let service: CodeBuildService;
  let repo: ReturnType<typeof gitRepository>;

  async function startMoto(): Promise<{ child: ChildProcess; endpoint: string }> {
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('utf8');
        const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
        if (match) resolve(match[1] as string);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('error', (error) =>
        reject(new Error(`moto_server (moto 5.2.1, Python environment) did not start: ${error.message}`)),
      );
      child.on('exit', (code) => reject(new Error(`moto_server exited (${code}) before it answered: ${text}`)));
    });
    return { child, endpoint: url };
  }

  beforeAll(async () => {
    ({ child: moto, endpoint } = await startMoto());
    s3 = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    state = tempDir('default-buildspec');
    // Docker stand-in: no engine runs here; inspect answers the digest a push would have given. The registry login
    // goes to that stand-in, so `aws ecr` answers a password of its own; every other `aws` call is the real CLI
    // (resolved past pyenv's shim, which costs seconds a call on a loaded machine).
    const bin = join(state, 'bin');
    mkdirSync(bin);
    const realAws = execFileSync('bash', ['-c', 'command -v pyenv >/dev/null && pyenv which aws || command -v aws'], {
      encoding: 'utf8',
    }).trim();
    const standIns = {
      docker: `case "$1" in\n  login) cat >/dev/null ;;\n  inspect) echo "\${@: -1}@${DIGEST}" ;;\nesac`,
      aws: `if [ "$1" = ecr ]; then echo stand-in-password; exit 0; fi\nexec '${realAws}' "$@"`,
    };
    for (const [name, script] of Object.entries(standIns)) {
      writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${script}\n`);
      chmodSync(join(bin, name), 0o755);
    }
    db = openStateDb(join(state, 'state.db'));
    service = new CodeBuildService({
      store: new BuildStore(db),
      workRoot: join(state, 'builds'),
      artifactsRoot: join(state, 'artifacts'),
      path: `${bin}:${process.env['PATH'] ?? ''}`,
      logUrl: (id) => `http://127.0.0.1/builds/${id}`,
    });
    // As CDK defines the project: its buildspec, and the variables it sets.
    service.registerProject({
      name: 'stepline-build',
      buildspec: JSON.stringify(imageBuildSpec()),
      environmentVariables: [
        { name: 'ECR_REGISTRY', value: '123456789012.dkr.ecr.us-east-1.amazonaws.com', type: 'PLAINTEXT' },
        { name: 'ARTIFACTS_BUCKET', value: BUCKET, type: 'PLAINTEXT' },
      ],
    });
    repo = gitRepository({
      Dockerfile: 'FROM scratch\n',
      'deploy/staging/app.yaml': 'kind: Deployment\n',
      'deploy/staging/extra/service.yml': 'kind: Service\n',
      'deploy/staging/NOTES.txt': 'not a manifest\n',
      'k8s/production.yaml': 'kind: Deployment\n',
    });
  }, 60_000);

  afterAll(() => {
    s3?.destroy();
    if (moto?.pid) process.kill(-moto.pid, 'SIGKILL');
    db?.close();
    removeDir(state);
    removeDir(repo.dir);
  });

  async function build(manifests: string, commit = repo.sha): Promise<{ doc: BuildDocument; log: string }> {
    const variables = {
      IMAGE_REPOSITORY: 'shop/api',
      IMAGE_TAG: repo.sha,
      STEPLINE_COMMIT: commit,
      STEPLINE_MANIFESTS: manifests,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    const started = service.startBuild({
      projectName: 'stepline-build',
      sourceLocationOverride: repo.dir,
      sourceVersion: `refs/heads/main^{${repo.sha}}`,
      environmentVariablesOverride: Object.entries(variables).map(([name, value]) => ({
        name,
        value,
        type: 'PLAINTEXT',
      })),
    });
    const doc = await service.wait(started.id);
    return { doc, log: new BuildStore(db).logText(doc.id) };
  }

  it('uploads the manifests of each environment where the deploy function reads them, and exports the digest and location', async () => {
    // Act
    const { doc, log } = await build('deploy/staging\n./k8s/production.yaml\ndeploy/staging/');

    // Assess
    expect(doc.buildStatus, log).toBe('SUCCEEDED');
    const location = `s3://${BUCKET}/manifests/shop/api/${repo.sha}`;
    expect(doc.exportedEnvironmentVariables).toEqual([
      { name: 'IMAGE_DIGEST', value: DIGEST },
      { name: 'MANIFESTS_LOCATION', value: location },
    ]);
    const source = new S3ManifestSource(s3);
    expect(await source.read(location, 'deploy/staging')).toEqual([
      { path: 'app.yaml', content: 'kind: Deployment\n' },
      { path: 'extra/service.yml', content: 'kind: Service\n' },
    ]);
    expect(await source.read(location, 'k8s/production.yaml')).toEqual([
      { path: 'production.yaml', content: 'kind: Deployment\n' },
    ]);
    const keys = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'manifests/' }));
    expect(keys.Contents?.map((o) => o.Key).sort()).toEqual([
      `manifests/shop/api/${repo.sha}/deploy/staging/app.yaml`,
      `manifests/shop/api/${repo.sha}/deploy/staging/extra/service.yml`,
      `manifests/shop/api/${repo.sha}/k8s/production.yaml`,
    ]);
  }, 120_000);

  it.each([
    [
      'a manifests path that is not in the repository',
      'deploy/qa',
      repo_sha,
      /reads its manifests at deploy\/qa, which is not in the repository/,
    ],
    [
      'a manifests path that leaves the repository',
      '../elsewhere',
      repo_sha,
      /the manifests path \.\.\/elsewhere leaves the repository/,
    ],
    [
      'a source that is not at the commit the run builds',
      '',
      () => 'f'.repeat(40),
      /not at the commit f{40} this run builds/,
    ],
  ])(
    'fails the build for %s, saying so',
    async (_case, manifests, commit, message) => {
      // Act
      const { doc, log } = await build(manifests, commit());

      // Assess
      expect(doc.buildStatus).toBe('FAILED');
      expect(log).toMatch(message);
    },
    120_000,
  );

  function repo_sha(): string {
    return repo.sha;
  }
});
