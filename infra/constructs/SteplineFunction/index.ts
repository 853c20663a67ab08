import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, AssetStaging, DockerImage, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PROVIDERS, type Provider, parseConfig, sealConfig } from '../../../core/config';
import { ENV, METRICS_NAMESPACE } from '../../../core/contracts';
import { STATUS_ENV } from '../../../core/status/contracts';
import { InfraError, MissingFileError } from '../../errors';
import { acknowledge } from '../../nag/acknowledge';

/** Where the bundled function finds the pipeline configuration (`STEPLINE_CONFIG`): sealed, beside the handler. */
export const BUNDLED_CONFIG_PATH = '/var/task/stepline.config.json';

/**
 * The configuration file as the function receives it: parsed and validated (defaults applied) now, at synth, and
 * sealed (core/config/sealed.ts), so that the function uses it without validating it again and never loads zod at
 * cold start (docs/adr/0046). Throws the parser's `ConfigError`, naming the field, when the file is invalid.
 */
export function sealedConfigText(configFile: string): string {
  const config = parseConfig(readFileSync(configFile, 'utf8'), configFile);
  return `${JSON.stringify(sealConfig(config), null, 2)}\n`;
}

function writeSealedConfig(configFile: string, outputDir: string): void {
  writeFileSync(path.join(outputDir, path.basename(BUNDLED_CONFIG_PATH)), sealedConfigText(configFile));
}

const rolesWithVpcAccess = new WeakSet<iam.Role>();

/**
 * The Git hosts' API base URLs, by host (GitHub Enterprise Server `https://HOST/api/v3`, self-managed GitLab
 * `https://HOST/api/v4`): what the constructs take as `gitHostApiUrls` for the functions that talk to a Git host.
 * A host left out keeps its own (`https://api.github.com`, `https://gitlab.com/api/v4`, `https://api.bitbucket.org/2.0`).
 */
export type GitHostApiUrls = Readonly<Partial<Record<Provider, string>>>;

const API_URL_VARIABLES: Readonly<Record<Provider, string>> = {
  github: STATUS_ENV.githubApiUrl,
  gitlab: STATUS_ENV.gitlabApiUrl,
  bitbucket: STATUS_ENV.bitbucketApiUrl,
};

/** The variables (`STEPLINE_GITHUB_API_URL`, ...) that point a function's Git host clients at `urls` (ADR 0117). */
export function gitHostApiEnvironment(urls: GitHostApiUrls | undefined): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const provider of PROVIDERS) {
    const url = urls?.[provider];
    if (url) environment[API_URL_VARIABLES[provider]] = url;
  }
  return environment;
}

/** `functions/<name>/index.ts`, the entry point of a Stepline function, relative to the project root. */
export function entryPath(name: string): string {
  return `functions/${name}/index.ts`;
}

/** Whether the entry point of the function `name` exists under `projectRoot`. */
export function entryExists(projectRoot: string, name: string): boolean {
  return existsSync(path.join(projectRoot, entryPath(name)));
}

export interface SteplineFunctionVpcPlacement {
  readonly vpc: ec2.IVpc;
  /** @default - the VPC's private subnets */
  readonly subnets?: ec2.SubnetSelection;
  /** @default - a new security group that allows all outbound traffic */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

export interface SteplineFunctionProps {
  /** Absolute path of the Stepline checkout: the folder with package.json and functions/. */
  readonly projectRoot: string;
  /** The function's folder under functions/: the entry is `functions/<name>/index.ts`, exporting `handler`. */
  readonly name: string;
  readonly description: string;
  /** The exported function the entry's handler is. @default 'handler' */
  readonly handler?: string;
  /** POWERTOOLS_SERVICE_NAME: the `service` dimension of its metrics and logs. @default `stepline-<name>` */
  readonly serviceName?: string;
  /**
   * The role to run as, when several functions share one (the EKS deployer's access entry names one role).
   * @default - a new role of its own
   */
  readonly role?: iam.Role;
  /** Environment variables besides the Powertools ones this construct sets. @default - none */
  readonly environment?: Record<string, string>;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /**
   * Absolute path of `stepline.config.json` to bundle beside the handler, validated and sealed when the function
   * is bundled (an invalid file fails the synth, naming the field); `STEPLINE_CONFIG` then points at it.
   * @default - the configuration is not bundled
   */
  readonly configFile?: string;
  /**
   * Queue that receives the events of asynchronous invocations (EventBridge) that failed all retries.
   * @default - none: the function is only invoked synchronously
   */
  readonly asyncFailureQueue?: sqs.IQueue;
  /** @default - not in a VPC */
  readonly vpcPlacement?: SteplineFunctionVpcPlacement;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The function throws named errors that the workflow Catches as outcomes of the pipeline (the deployer's
   * ManifestInvalid, the lock's EnvironmentBusy): Lambda's Errors metric counts those too, so monitoring counts this
   * function's unexpected failures from its log instead (Observability, docs/adr/0048). @default false
   */
  readonly errorsAreOutcomes?: boolean;
  /**
   * The function's own bundling definition, for a function whose folder defines how it is bundled
   * (functions/webhook/bundle.ts, docs/adr/0008): `file` (absolute) exports `optionsExport(outfile)`, esbuild options
   * (plugins allowed), run at synth in a child process into `index.js` (handler `index.<handler>`).
   * @default - NodejsFunction's bundling: ESM, node24, the AWS SDK inside
   */
  readonly ownBundle?: { readonly file: string; readonly optionsExport: string };
}

/**
 * A Stepline Lambda function built from `functions/<name>/index.ts`: bundled with the local esbuild (no Docker) as
 * ESM for Node.js 24 on arm64, with the pinned AWS SDK inside the bundle, X-Ray tracing, its own log group with a
 * retention, and its own role that may write only to that log group. Throws `MissingFileError` when the entry
 * point does not exist.
 */
export class SteplineFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  /** The POWERTOOLS_SERVICE_NAME the function runs with (the `service` dimension of its metrics). */
  public readonly serviceName: string;
  public readonly logGroup: logs.LogGroup;
  /** See `SteplineFunctionProps.errorsAreOutcomes`. */
  public readonly errorsAreOutcomes: boolean;

  public constructor(scope: Construct, id: string, props: SteplineFunctionProps) {
    super(scope, id);
    const relative = entryPath(props.name);
    const entry = path.join(props.projectRoot, relative);
    if (!existsSync(entry)) throw new MissingFileError(relative, entry);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role =
      props.role ??
      new iam.Role(this, 'Role', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Stepline ${props.name} function`,
      });
    this.serviceName = props.serviceName ?? `stepline-${props.name}`;
    this.errorsAreOutcomes = props.errorsAreOutcomes ?? false;
    this.logGroup.grantWrite(this.role);

    const configFile = props.configFile;
    const environment: Record<string, string> = {
      [ENV.serviceName]: this.serviceName,
      [ENV.metricsNamespace]: METRICS_NAMESPACE,
      [ENV.logLevel]: 'INFO',
      // The default bundle ships a source map; a function's own bundle (the webhook's) has none.
      ...(props.ownBundle ? {} : { NODE_OPTIONS: '--enable-source-maps' }),
      ...(configFile ? { [ENV.config]: BUNDLED_CONFIG_PATH } : {}),
      ...props.environment,
    };

    const common = {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment,
      ...(props.vpcPlacement
        ? {
            vpc: props.vpcPlacement.vpc,
            vpcSubnets: props.vpcPlacement.subnets,
            securityGroups: props.vpcPlacement.securityGroups,
          }
        : {}),
      ...(props.asyncFailureQueue
        ? { onFailure: new destinations.SqsDestination(props.asyncFailureQueue), retryAttempts: 2 }
        : {}),
    };
    // NodejsFunction calls its hooks twice: for the Docker command it prepares (paths inside the container, never
    // run while local bundling works) and for local bundling. The sealed file is written on the second call only.
    const sealConfigInto = (output: string): string[] => {
      if (!configFile) return [];
      if (output === AssetStaging.BUNDLING_OUTPUT_DIR) {
        return ['echo "Stepline seals stepline.config.json at synth: it needs local bundling (esbuild)" >&2', 'exit 1'];
      }
      writeSealedConfig(configFile, output);
      return [];
    };

    this.function = props.ownBundle
      ? new lambda.Function(this, 'Function', {
          ...common,
          handler: `index.${props.handler ?? 'handler'}`,
          code: ownBundle(props.projectRoot, path.dirname(entry), props.ownBundle, configFile),
        })
      : new nodejs.NodejsFunction(this, 'Function', {
          ...common,
          entry,
          handler: props.handler ?? 'handler',
          projectRoot: props.projectRoot,
          depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
          bundling: {
            format: nodejs.OutputFormat.ESM,
            target: 'node24',
            mainFields: ['module', 'main'],
            // ESM output: bundled CommonJS dependencies call require() for Node built-ins (node:https, ...).
            banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
            bundleAwsSDK: true,
            minify: true,
            sourceMap: true,
            sourcesContent: false,
            ...(configFile
              ? {
                  commandHooks: {
                    beforeBundling: () => [],
                    beforeInstall: () => [],
                    afterBundling: (_input: string, output: string) => sealConfigInto(output),
                  },
                }
              : {}),
          },
        });

    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions ' +
        '(Service Authorization Reference, AWS X-Ray), so Lambda active tracing needs Resource "*".',
    );
    if (props.vpcPlacement && !rolesWithVpcAccess.has(this.role)) {
      // Lambda attaches the VPC access policy only to roles it creates itself; this role is ours.
      rolesWithVpcAccess.add(this.role);
      this.role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
      acknowledge(
        this.role,
        `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]`,
        'A function in a VPC needs ec2:CreateNetworkInterface/DescribeNetworkInterfaces/DeleteNetworkInterface, ' +
          'which the AWS managed AWSLambdaVPCAccessExecutionRole grants and which support no resource scoping.',
      );
    }
    if (props.asyncFailureQueue) {
      acknowledge(
        this.function,
        'Serverless-LambdaDLQ',
        'Failed asynchronous invocations go to an on-failure destination (AWS::Lambda::EventInvokeConfig, an SQS ' +
          'queue), which records the error with the event; a DeadLetterConfig on top would duplicate it.',
      );
    } else {
      acknowledge(
        this.function,
        'Serverless-LambdaDLQ',
        'Invoked only synchronously (API Gateway, Step Functions lambda:invoke, SQS event source), where the caller ' +
          'receives the error and retries; a dead-letter queue applies to asynchronous invocations only.',
      );
    }
  }
}

/**
 * An asset built at synth with the function's own bundling definition, in a child process (esbuild plugins need
 * its asynchronous API; tsx loads the TypeScript definition). Local only: no Docker image is ever pulled.
 */
function ownBundle(
  projectRoot: string,
  folder: string,
  definition: { readonly file: string; readonly optionsExport: string },
  configFile: string | undefined,
): lambda.Code {
  return lambda.Code.fromAsset(folder, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('local-bundling-only'),
      local: {
        tryBundle(outputDir: string): boolean {
          const script = [
            `const options = require(${JSON.stringify(definition.file)})[${JSON.stringify(definition.optionsExport)}](${JSON.stringify(path.join(outputDir, 'index.js'))});`,
            "require('esbuild').build(options).catch((error) => { console.error(error.message); process.exit(1); });",
          ].join('\n');
          const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
            cwd: projectRoot,
            encoding: 'utf8',
          });
          if (run.status !== 0) {
            throw new InfraError(`bundling ${folder} with ${definition.file} failed: ${run.stderr || run.error}`);
          }
          if (configFile) writeSealedConfig(configFile, outputDir);
          return true;
        },
      },
    },
  });
}
