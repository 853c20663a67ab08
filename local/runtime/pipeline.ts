import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { APPROVAL_KEEPER, heartbeatSecondsFor } from '../../core/approval/contracts';
import { SteplineError } from '../../core/errors';

/**
 * The pipeline definition on this machine: `statemachines/pipeline.asl.json` with its `${Placeholder}`s filled as
 * CDK fills them through `DefinitionSubstitutions` (the names of infra/constructs/PipelineWorkflow's
 * `SUBSTITUTIONS`), with the local runtime's resources: its CodeBuild projects, its in-process functions, account
 * 000000000000.
 */

/** The local names of the pipeline's resources. */
export const LOCAL_RESOURCES = {
  buildProject: 'stepline-build',
  testProject: 'stepline-test',
  untrustedBuildProject: 'stepline-build-untrusted',
  untrustedTestProject: 'stepline-test-untrusted',
  artifactsBucket: 'stepline-artifacts',
  functions: {
    status: 'stepline-status',
    approval: 'stepline-approval',
    deploy: 'stepline-deploy',
    rollout: 'stepline-rollout',
    rollback: 'stepline-rollback',
    coordination: 'stepline-coordination',
    analysis: 'stepline-analysis',
    webhook: 'stepline-webhook',
    approvalHttp: 'stepline-approval-http',
    approvalKeeper: 'stepline-approval-keeper',
    approvalCommands: 'stepline-approval-commands',
    buildEvents: 'stepline-build-events',
    executionEvents: 'stepline-execution-events',
  },
} as const;

export const DEFAULT_STATE_MACHINE_NAME = 'stepline-pipeline';

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** The substitution values, by placeholder name. */
export function localSubstitutions(options: {
  region: string;
  accountId: string;
  partition?: string;
  stateMachineName: string;
  /** `HeartbeatSeconds` of approval gates. Default: three periods of the local approval keeper. */
  approvalHeartbeatSeconds?: number;
}): Record<string, string> {
  const partition = options.partition ?? 'aws';
  const fn = (name: string): string =>
    `arn:${partition}:lambda:${options.region}:${options.accountId}:function:${name}`;
  const f = LOCAL_RESOURCES.functions;
  return {
    BuildProjectName: LOCAL_RESOURCES.buildProject,
    TestProjectName: LOCAL_RESOURCES.testProject,
    UntrustedBuildProjectName: LOCAL_RESOURCES.untrustedBuildProject,
    UntrustedTestProjectName: LOCAL_RESOURCES.untrustedTestProject,
    StatusFunctionArn: fn(f.status),
    ApprovalFunctionArn: fn(f.approval),
    DeployFunctionArn: fn(f.deploy),
    RolloutFunctionArn: fn(f.rollout),
    RollbackFunctionArn: fn(f.rollback),
    CoordinationFunctionArn: fn(f.coordination),
    AnalysisFunctionArn: fn(f.analysis),
    ArtifactsBucketName: LOCAL_RESOURCES.artifactsBucket,
    EcrRegistry: `${options.accountId}.dkr.ecr.${options.region}.amazonaws.com`,
    AwsRegion: options.region,
    AwsAccountId: options.accountId,
    AwsPartition: partition,
    StateMachineName: options.stateMachineName,
    ApprovalHeartbeatSeconds: String(
      options.approvalHeartbeatSeconds ?? heartbeatSecondsFor(APPROVAL_KEEPER.localIntervalSeconds),
    ),
  };
}

/** A workflow definition file the local runtime cannot load: unreadable, or a placeholder it has no value for. */
export class DefinitionFileError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DefinitionFileError';
  }
}

/** Fills every `${Name}`; throws naming the placeholders that have no value. */
export function substitute(text: string, values: Readonly<Record<string, string>>, source: string): string {
  const missing = [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].filter(
    (name) => !Object.hasOwn(values, name),
  );
  if (missing.length > 0) {
    throw new DefinitionFileError(
      `${source}: no local value for ${missing.map((n) => `\${${n}}`).join(', ')}; the local runtime fills ${Object.keys(values).join(', ')}`,
    );
  }
  return text.replace(PLACEHOLDER, (_whole, name: string) => values[name] as string);
}

/** The default definition file: `statemachines/pipeline.asl.json` of this checkout. */
export function defaultDefinitionFile(): string {
  return resolve(__dirname, '../../statemachines/pipeline.asl.json');
}

/** Reads and fills the definition; undefined when the file does not exist. */
export function loadDefinition(file: string, values: Readonly<Record<string, string>>): string | undefined {
  if (!existsSync(file)) return undefined;
  return substitute(readFileSync(file, 'utf8'), values, file);
}
