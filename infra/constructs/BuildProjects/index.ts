import { ArnFormat, Aws, type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource } from '../../nag/acknowledge';

import { imageBuildSpec, testBuildSpec, untrustedImageBuildSpec } from './buildspec';

/** Where the image build uploads the rendered manifests in the artifacts bucket, and the deploy functions read them. */
export const MANIFESTS_PREFIX = 'manifests/';

export { EXPORTED_VARIABLES, imageBuildSpec, testBuildSpec, untrustedImageBuildSpec } from './buildspec';

export interface BuildProjectsProps {
  /** ECR repository names, one per configured `build.imageRepository` (duplicates are ignored). */
  readonly imageRepositories: readonly string[];
  /** @default - a new customer managed key with yearly rotation */
  readonly encryptionKey?: kms.IKey;
  /** @default codebuild.LinuxBuildImage.STANDARD_7_0 (x86_64; choose an arm image for arm64 nodes) */
  readonly buildImage?: codebuild.IBuildImage;
  /** @default codebuild.ComputeType.MEDIUM */
  readonly buildComputeType?: codebuild.ComputeType;
  /** @default codebuild.ComputeType.SMALL */
  readonly testComputeType?: codebuild.ComputeType;
  /** Whether test suites may run Docker (privileged mode). @default false */
  readonly testPrivileged?: boolean;
  /** Images kept per repository, newest first; older ones expire. @default 500 */
  readonly maxImagesPerRepository?: number;
  /** Days after which the build cache objects expire. @default 30 */
  readonly cacheExpirationDays?: number;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /**
   * CodeConnections (or CodeStar Connections) connections the builds check out through: GitLab sources need one,
   * set as the account's default source credential; GitHub and Bitbucket may use one instead of a token.
   * @default - none: the account's imported source credentials (tokens) are used
   */
  readonly sourceConnectionArns?: readonly string[];
}

/**
 * The build side of the pipeline: an ECR repository per configured image repository (scan on push, immutable tags,
 * lifecycle rules, KMS), the image build project (privileged: Docker build and push; exports IMAGE_DIGEST and
 * MANIFESTS_LOCATION), the test project, a KMS key, and the cache and artifacts bucket (TLS only, public access
 * blocked, SSE-KMS, server access logs to a log bucket).
 *
 * Runs that may not use secrets (pull requests from forks: their code is not the repository owners') get their own
 * pair of projects, whose roles can write their logs and nothing else: no registry, no bucket, no cache shared with
 * trusted builds (a fork could poison it), no source connection (its token could be read by the build).
 */
export class BuildProjects extends Construct {
  public readonly key: kms.IKey;
  public readonly artifactsBucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly repositories: ReadonlyMap<string, ecr.Repository>;
  public readonly buildProject: codebuild.Project;
  public readonly testProject: codebuild.Project;
  /** Builds the image of a fork's pull request without pushing it; its role writes its logs only. */
  public readonly untrustedBuildProject: codebuild.Project;
  /** Runs a test suite of a fork's pull request; its role writes its logs only. */
  public readonly untrustedTestProject: codebuild.Project;
  /** The registry host images are pushed to: `<account>.dkr.ecr.<region>.<url suffix>`. */
  public readonly registry: string;

  public constructor(scope: Construct, id: string, props: BuildProjectsProps) {
    super(scope, id);
    this.registry = `${Aws.ACCOUNT_ID}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}`;
    this.key =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Stepline: build artifacts, cache, images and build logs',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // Server access log delivery supports SSE-S3 only on the target bucket.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.artifactsBucket = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        { prefix: 'cache/', expiration: Duration.days(props.cacheExpirationDays ?? 30) },
        { noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const repositories = new Map<string, ecr.Repository>();
    for (const name of [...new Set(props.imageRepositories)].sort()) {
      repositories.set(
        name,
        new ecr.Repository(this, `Repository-${name}`, {
          repositoryName: name,
          imageScanOnPush: true,
          imageTagMutability: ecr.TagMutability.IMMUTABLE,
          encryption: ecr.RepositoryEncryption.KMS,
          encryptionKey: this.key,
          removalPolicy: RemovalPolicy.RETAIN,
          lifecycleRules: [
            {
              rulePriority: 1,
              description: 'Untagged images (layers of interrupted pushes) expire after a day',
              tagStatus: ecr.TagStatus.UNTAGGED,
              maxImageAge: Duration.days(1),
            },
            {
              rulePriority: 2,
              description: 'Keep the newest images; commits older than these are not redeployed',
              tagStatus: ecr.TagStatus.ANY,
              maxImageCount: props.maxImagesPerRepository ?? 500,
            },
          ],
        }),
      );
    }
    this.repositories = repositories;

    const buildLogs = new logs.LogGroup(this, 'BuildLogs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const testLogs = new logs.LogGroup(this, 'TestLogs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Image builds run Docker (privileged); test suites only when asked. Every project: the key, its log group, 60 min.
    const project = (
      id: string,
      description: string,
      kind: 'build' | 'test',
      buildSpec: Record<string, unknown>,
      environmentVariables?: Record<string, codebuild.BuildEnvironmentVariable>,
    ): codebuild.Project =>
      new codebuild.Project(this, id, {
        description,
        environment: {
          buildImage: props.buildImage ?? codebuild.LinuxBuildImage.STANDARD_7_0,
          computeType:
            kind === 'build'
              ? (props.buildComputeType ?? codebuild.ComputeType.MEDIUM)
              : (props.testComputeType ?? codebuild.ComputeType.SMALL),
          privileged: kind === 'build' ? true : (props.testPrivileged ?? false),
        },
        ...(environmentVariables ? { environmentVariables } : {}),
        buildSpec: codebuild.BuildSpec.fromObject(buildSpec),
        encryptionKey: this.key,
        logging: { cloudWatch: { logGroup: kind === 'build' ? buildLogs : testLogs } },
        timeout: Duration.minutes(60),
      });

    this.buildProject = project(
      'Build',
      'Stepline: builds the image at the commit, pushes it to ECR, exports its digest and manifests',
      'build',
      imageBuildSpec(),
      { ECR_REGISTRY: { value: this.registry }, ARTIFACTS_BUCKET: { value: this.artifactsBucket.bucketName } },
    );
    this.testProject = project(
      'Test',
      "Stepline: runs one test suite's buildspec at the commit",
      'test',
      testBuildSpec(),
      {
        ECR_REGISTRY: { value: this.registry },
      },
    );
    this.untrustedBuildProject = project(
      'UntrustedBuild',
      'Stepline: builds the image of a pull request from a fork, without pushing it (no secrets)',
      'build',
      untrustedImageBuildSpec(),
    );
    this.untrustedTestProject = project(
      'UntrustedTest',
      'Stepline: runs one test suite of a pull request from a fork (no secrets)',
      'test',
      testBuildSpec(),
    );
    for (const project of [this.untrustedBuildProject, this.untrustedTestProject]) acknowledgeProjectDefaults(project);

    for (const repository of repositories.values()) {
      repository.grantPullPush(this.buildProject);
      repository.grantPull(this.testProject);
    }
    useBucketCache(this.buildProject, this.artifactsBucket, 'cache/build');
    useBucketCache(this.testProject, this.artifactsBucket, 'cache/test');
    const manifests = this.artifactsBucket.arnForObjects(`${MANIFESTS_PREFIX}*`);
    this.buildProject.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [manifests] }));
    acknowledgeWildcardResource(
      this.buildProject.role!,
      manifests,
      'The image build uploads the rendered manifests under manifests/<repository>/<commit>/, keys known only at ' +
        'run time; the grant is PutObject under the manifests/ prefix of the artifacts bucket only.',
    );
    for (const project of [this.buildProject, this.testProject]) {
      acknowledgeProjectDefaults(project);
      acknowledge(
        project.role!,
        'AwsSolutions-IAM5[Resource::*]',
        'ecr:GetAuthorizationToken (docker login to ECR) supports no resource-level permissions (Service ' +
          'Authorization Reference, Amazon ECR); pushes and pulls are scoped to the configured repositories.',
      );
      for (const connection of props.sourceConnectionArns ?? []) {
        // The service prefix of the actions must match the connection's ARN (codeconnections or codestar-connections).
        const service = connection.split(':')[2] ?? 'codeconnections';
        project.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['GetConnectionToken', 'GetConnection', 'UseConnection'].map((action) => `${service}:${action}`),
            resources: [connection],
          }),
        );
      }
    }
  }

  /** The logical id of one of this construct's resources (tests and acknowledgements name them). */
  public stackLogicalId(construct: Construct): string {
    const child = construct.node.defaultChild as CfnElement;
    return Stack.of(this).resolve(child.logicalId) as string;
  }

  /**
   * Grants reading the rendered manifests: the deploy functions. GetObject under manifests/ and Decrypt with the key
   * read an object; ListBucket on the bucket, only for prefixes under manifests/ (the `s3:prefix` condition key),
   * lists a folder of them. ListObjectsV2 is authorized as s3:ListBucket; without it S3 refuses the list and also
   * answers a GetObject of a missing key with 403 instead of 404 (Amazon S3 API Reference, ListObjectsV2 and
   * GetObject, "Permissions"). Listing returns keys and metadata only, which SSE-KMS does not encrypt: no KMS
   * permission is needed for it.
   */
  public grantReadManifests(grantee: iam.IGrantable): void {
    const manifests = this.artifactsBucket.arnForObjects(`${MANIFESTS_PREFIX}*`);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [manifests] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.artifactsBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': `${MANIFESTS_PREFIX}*` } },
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.key.keyArn] }),
    );
    acknowledgeWildcardResource(
      grantee.grantPrincipal as unknown as Construct,
      manifests,
      'The deploy functions read the manifests a build rendered, under manifests/<repository>/<commit>/, keys ' +
        'known only at run time; the grant is GetObject under the manifests/ prefix only.',
    );
  }
}

/** Points a project's cache at a prefix of the bucket, granting object reads and writes under that prefix only. */
function useBucketCache(project: codebuild.Project, bucket: s3.IBucket, prefix: string): void {
  // Cache.bucket() would grant read/write/delete on the whole bucket; the L1 property keeps the grant to the prefix.
  (project.node.defaultChild as codebuild.CfnProject).cache = {
    type: 'S3',
    location: `${bucket.bucketName}/${prefix}`,
  };
  const objects = bucket.arnForObjects(`${prefix}/*`);
  project.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [objects] }));
  project.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [bucket.bucketArn] }),
  );
  acknowledgeWildcardResource(
    project.role!,
    objects,
    `CodeBuild names its cache archives itself; the grant is GetObject/PutObject under ${prefix}/ of the ` +
      'artifacts bucket only.',
  );
}

/** The findings every CodeBuild project's role raises, from the grants CDK's Project makes. */
function acknowledgeProjectDefaults(project: codebuild.Project): void {
  const role = project.role!;
  const stack = Stack.of(project);
  acknowledgeWildcardResource(
    role,
    stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: `/aws/codebuild/${project.projectName}:*`,
    }),
    'CodeBuild names its log streams by build id under /aws/codebuild/<project>; the streams are only known at ' +
      'run time, so the grant covers the log group of this one project.',
  );
  acknowledgeWildcardResource(
    role,
    stack.formatArn({ service: 'codebuild', resource: 'report-group', resourceName: `${project.projectName}-*` }),
    'Test reports go to report groups that CodeBuild names <project>-<report group name> at run time; the grant ' +
      "covers this project's report groups only.",
  );
  for (const action of ['kms:ReEncrypt*', 'kms:GenerateDataKey*']) {
    acknowledge(
      role,
      `AwsSolutions-IAM5[Action::${action}]`,
      "CodeBuild encrypts the build's artifacts, cache and logs with the project's KMS key; CDK grants its " +
        'standard encrypt/decrypt set, wildcard actions included, on that one key only.',
    );
  }
}
