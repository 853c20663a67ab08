import { createHash } from 'node:crypto';
import { BuildInputError, BuildResourceNotFoundError } from './errors';
import type { BuildDocument, EnvironmentVariable } from './shapes';
import { parseSourceVersion } from './source-version';

/**
 * The projects of the local CodeBuild, and what StartBuild checks before a build is recorded: the project, the
 * variable overrides (PLAINTEXT only), the source version, the timeout, the idempotency token; then the build's
 * first document, as BatchGetBuilds answers it.
 */

export interface ProjectConfig {
  readonly name: string;
  readonly description?: string;
  /** Variables every build of the project gets (below the StartBuild overrides). */
  readonly environmentVariables?: readonly EnvironmentVariable[];
  /**
   * The buildspec: inline YAML, or a path in the source. Default: for a build a pipeline starts (`STEPLINE_STEP`),
   * the local counterpart of the project's buildspec on AWS (default-buildspecs.ts); else `buildspec.yml`.
   */
  readonly buildspec?: string;
  /** The source's location when a build gives none. */
  readonly sourceLocation?: string;
  /** Default 60. */
  readonly timeoutInMinutes?: number;
  /**
   * Builds of code that is not the repository owners' (pull requests from forks). They run in a sandbox
   * (sandbox.ts, docs/adr/0088): their own PID, mount, user and network namespaces, a clean environment, no view
   * of the runtime's state folder, of the user's home or of the runtime's processes. Where no sandbox can be made,
   * they are refused, never run without one.
   */
  readonly untrusted?: boolean;
}

/** StartBuild's request (the API's camelCase); fields the local runner does not use are accepted and ignored. */
export interface StartBuildInput {
  readonly projectName?: string;
  readonly sourceVersion?: string;
  readonly sourceLocationOverride?: string;
  readonly sourceTypeOverride?: string;
  readonly buildspecOverride?: string;
  readonly environmentVariablesOverride?: readonly { name?: string; value?: string; type?: string }[];
  readonly timeoutInMinutesOverride?: number;
  readonly idempotencyToken?: string;
  readonly [other: string]: unknown;
}

export interface StartBuildContext {
  /** Who started it (CodeBuild's `initiator`). */
  readonly initiator?: string;
  /** The execution that started it, for listings (the variables also carry it, see BUILD_ENV). */
  readonly executionArn?: string;
}

export class ProjectRegistry {
  private readonly projects = new Map<string, ProjectConfig>();

  public constructor(
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  public register(project: ProjectConfig): void {
    this.projects.set(project.name, project);
  }

  public get(name: string): ProjectConfig | undefined {
    return this.projects.get(name);
  }

  public names(): string[] {
    return [...this.projects.keys()];
  }

  /** The project a StartBuild names; `InvalidInputException` without one, `ResourceNotFoundException` if unknown. */
  public require(projectName: unknown): ProjectConfig {
    if (typeof projectName !== 'string' || projectName === '') {
      throw new BuildInputError(
        "1 validation error detected: Value null at 'projectName' failed to satisfy constraint: Member must not be null",
      );
    }
    const project = this.projects.get(projectName);
    if (!project) {
      throw new BuildResourceNotFoundError(
        `Project cannot be found: arn:aws:codebuild:${this.region}:${this.accountId}:project/${projectName}`,
      );
    }
    return project;
  }
}

const STRING_FIELDS = [
  'sourceVersion',
  'sourceLocationOverride',
  'sourceTypeOverride',
  'buildspecOverride',
  'idempotencyToken',
] as const;

/** The checked parts of a StartBuild request: its variables (project's, then overrides) and its timeout. */
export function checkStartBuild(
  input: StartBuildInput,
  project: ProjectConfig,
): { variables: EnvironmentVariable[]; timeout: number } {
  for (const field of STRING_FIELDS) {
    if (input[field] !== undefined && typeof input[field] !== 'string') {
      throw new BuildInputError(`${field} must be a string`);
    }
  }
  const given = input.environmentVariablesOverride ?? [];
  if (!Array.isArray(given)) throw new BuildInputError('environmentVariablesOverride must be a list');
  const overrides: EnvironmentVariable[] = [];
  for (const [i, v] of given.entries()) {
    if (typeof v?.name !== 'string' || v.name === '' || typeof v.value !== 'string') {
      throw new BuildInputError(`environmentVariablesOverride[${i}] needs a name and a value`);
    }
    const type = v.type ?? 'PLAINTEXT';
    if (type !== 'PLAINTEXT') {
      throw new BuildInputError(
        `environment variable ${v.name} has type ${type}: the local runtime resolves only PLAINTEXT variables; set the value itself`,
      );
    }
    overrides.push({ name: v.name, value: v.value, type });
  }
  if (input.sourceVersion) parseSourceVersion(input.sourceVersion);
  const timeout = input.timeoutInMinutesOverride ?? project.timeoutInMinutes ?? 60;
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 2160) {
    throw new BuildInputError(
      `timeoutInMinutesOverride must be a whole number of minutes from 1 to 2160, got ${timeout}`,
    );
  }
  const variables = [
    ...(project.environmentVariables ?? []).filter((v) => !overrides.some((o) => o.name === v.name)),
    ...overrides,
  ];
  return { variables, timeout };
}

/**
 * StartBuild's `idempotencyToken`: the same token with the same request answers the build it started; with another
 * request it is refused.
 */
export class IdempotencyTokens {
  private readonly tokens = new Map<string, { buildId: string; hash: string }>();

  /** The build id a repeated request answers with, or undefined for a new build (then call `started`). */
  public check(input: StartBuildInput): string | undefined {
    if (!input.idempotencyToken) return undefined;
    const hash = createHash('sha256')
      .update(JSON.stringify({ ...input, idempotencyToken: undefined }))
      .digest('hex');
    const seen = this.tokens.get(input.idempotencyToken);
    if (seen) {
      if (seen.hash !== hash) throw new BuildInputError('The same idempotencyToken was used with different parameters');
      if (seen.buildId) return seen.buildId;
    }
    this.tokens.set(input.idempotencyToken, { buildId: '', hash });
    return undefined;
  }

  public started(input: StartBuildInput, buildId: string): void {
    if (!input.idempotencyToken) return;
    const entry = this.tokens.get(input.idempotencyToken);
    if (entry) entry.buildId = buildId;
  }
}

/** CodeBuild's source type of a location (GITHUB, GITLAB, BITBUCKET), else NO_SOURCE. */
export function sourceType(location: string | undefined, override: string | undefined): string {
  if (override) return override;
  if (!location) return 'NO_SOURCE';
  if (/github/i.test(location)) return 'GITHUB';
  if (/gitlab/i.test(location)) return 'GITLAB';
  if (/bitbucket/i.test(location)) return 'BITBUCKET';
  return 'NO_SOURCE';
}

/** A new build's document, IN_PROGRESS at SUBMITTED. */
export function newBuildDocument(fields: {
  readonly id: string;
  readonly uuid: string;
  readonly arn: string;
  readonly buildNumber: number;
  readonly input: StartBuildInput;
  readonly project: ProjectConfig;
  readonly variables: EnvironmentVariable[];
  readonly timeout: number;
  readonly initiator: string;
  readonly region: string;
  readonly accountId: string;
  readonly deepLink: string;
}): BuildDocument {
  const { input, project } = fields;
  const location = input.sourceLocationOverride ?? project.sourceLocation;
  const buildspec = input.buildspecOverride ?? project.buildspec;
  return {
    id: fields.id,
    arn: fields.arn,
    buildNumber: fields.buildNumber,
    startTime: Date.now(),
    currentPhase: 'SUBMITTED',
    buildStatus: 'IN_PROGRESS',
    ...(input.sourceVersion ? { sourceVersion: input.sourceVersion } : {}),
    projectName: project.name,
    phases: [],
    source: {
      type: sourceType(location, input.sourceTypeOverride),
      ...(location ? { location } : {}),
      ...(buildspec ? { buildspec } : {}),
    },
    secondarySources: [],
    secondarySourceVersions: [],
    artifacts: {},
    environment: {
      type: 'LINUX_CONTAINER',
      image: 'stepline/local-runner',
      computeType: 'BUILD_GENERAL1_SMALL',
      environmentVariables: fields.variables,
      privilegedMode: false,
      imagePullCredentialsType: 'CODEBUILD',
    },
    serviceRole: `arn:aws:iam::${fields.accountId}:role/stepline-local-build`,
    logs: {
      groupName: `/aws/codebuild/${project.name}`,
      streamName: fields.uuid,
      deepLink: fields.deepLink,
    },
    timeoutInMinutes: fields.timeout,
    queuedTimeoutInMinutes: 480,
    buildComplete: false,
    initiator: fields.initiator,
    encryptionKey: `arn:aws:kms:${fields.region}:${fields.accountId}:alias/aws/s3`,
    exportedEnvironmentVariables: [],
    reportArns: [],
    fileSystemLocations: [],
  };
}
