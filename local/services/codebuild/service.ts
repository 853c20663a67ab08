import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import picomatch from 'picomatch';
import type { CodeBuildEvent } from '../../../core/status/contracts';
import type { BuildStore } from '../../store/builds';
import { type Buildspec, isInlineBuildspec, PHASE_TYPE, PHASES, type PhaseName, parseBuildspec } from './buildspec';
import { localDefaultBuildspec } from './default-buildspecs';
import { BuildInputError, BuildResourceNotFoundError, BuildspecError } from './errors';
import { parseJUnit, summarize, type TestCase, type TestReport } from './reports';
import {
  type BuildDocument,
  type BuildPhase,
  type EnvironmentVariable,
  type PhaseContext,
  phaseChangeEvent,
  stateChangeEvent,
} from './shapes';
import { commandScript, exportScript, type ShellState, shellState } from './shell';
import { parseSourceVersion, type SourceVersion } from './source-version';
import { NO_DOCKER_EXIT, NO_DOCKER_MARKER, NO_DOCKER_MESSAGE } from './tools';

/**
 * The local CodeBuild: projects, and builds that run a buildspec 0.2 in a work folder on this machine.
 *
 * A build clones the source (a Git URL, a local path or a `file://` URL) at the requested version, then runs the
 * phases as CodeBuild does: SUBMITTED, QUEUED, PROVISIONING, DOWNLOAD_SOURCE, INSTALL, PRE_BUILD, BUILD,
 * POST_BUILD, UPLOAD_ARTIFACTS, FINALIZING, COMPLETED. The transitions follow CodeBuild's:
 * - a failure in INSTALL or PRE_BUILD skips every later phase up to FINALIZING;
 * - a failure in BUILD still runs POST_BUILD (with `CODEBUILD_BUILD_SUCCEEDING=0`), and UPLOAD_ARTIFACTS;
 * - a phase's `on-failure: CONTINUE` goes on to the next phase, `ABORT` stops at once;
 * - a phase's `finally` commands run after its `commands`, whether they failed or not.
 * Each command runs in its own process group (StopBuild and the build timeout kill the group), with the
 * variables and working directory of the commands before it (see shell.ts). Every phase change is saved, logged,
 * and told to `onEvent` as CodeBuild's EventBridge events.
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
   * Builds of code that is not the repository owners' (pull requests from forks): they get none of the runtime's
   * `passEnvironment` variables, a HOME of their own in the work folder instead of the user's (where credentials
   * live), and an images folder of their own instead of the shared one the deploys read. Not a sandbox: the commands
   * still run as the user who runs the runtime.
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

export interface CodeBuildServiceOptions {
  readonly store: BuildStore;
  /** Where builds get their work folders. */
  readonly workRoot: string;
  /** Where artifacts, manifests and images are kept after the work folder is gone. */
  readonly artifactsRoot: string;
  /** The PATH of builds (with the tools of tools.ts first). */
  readonly path: string;
  readonly region?: string;
  readonly accountId?: string;
  /** The link to a build's log (the status links and `logs.deepLink`). */
  readonly logUrl: (buildId: string) => string;
  /** Milliseconds in a minute of build timeout: 60,000 (tests make it shorter). */
  readonly minuteMs?: number;
  /** Told every CodeBuild event (state and phase changes). */
  readonly onEvent?: (event: CodeBuildEvent) => void;
  /**
   * Where to clone from when neither the request nor the project names a source: given the build's variables
   * (e.g. `STEPLINE_EXECUTION_ARN`), the runtime answers the execution's clone URL.
   */
  readonly defaultSource?: (variables: ReadonlyMap<string, string>) => Promise<string | undefined>;
  /** Variables of the runtime's own environment that builds also get (besides PATH, HOME, LANG, ...). */
  readonly passEnvironment?: readonly string[];
  /** Work folders kept per project once their builds end (default 10); older ones are removed. */
  readonly keepWorkFolders?: number;
}

const PASSED_BY_DEFAULT = ['HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'LOGNAME', 'TERM'];
const FINAL_STATUSES = new Set(['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);

/** The checkout script's exit status when the clone itself failed. */
const CLONE_FAILED = 10;

/**
 * DOWNLOAD_SOURCE in one process (`bash -c`, arguments: location, folder, ref, version or empty, reference to fetch
 * or empty): clone without a checkout, check out the ref detached (a version that is not in the clone is fetched by
 * name, else taken as `origin/<version>`), print the commit. With a reference to fetch (`refs/pull/7/head^{<sha>}`,
 * `pr/7`: see source-version.ts), fetch it, check that the commit is in its history, and check the commit out.
 * One process instead of three: the runtime's process forks each child, which blocks its event loop for 5 to 10 ms
 * a time.
 *
 * `--shared`: a clone of a local path borrows the objects of the repository it clones (objects/info/alternates)
 * instead of linking every loose object into a new folder, about 40 ms less on this kind of disk. A build only
 * adds objects of its own; git ignores the flag for URLs (docs/adr/0086).
 */
const CHECKOUT_SCRIPT = [
  'location=$1 dir=$2 ref=$3 version=$4 fetch=$5',
  'checkout() { git -c advice.detachedHead=false checkout --quiet --detach "$1" 2>&1 >/dev/null; }',
  `if ! out=$(git clone --quiet --shared --no-checkout -- "$location" "$dir" 2>&1 >/dev/null); then printf '%s\\n' "$out" >&2; exit ${CLONE_FAILED}; fi`,
  `cd "$dir" || exit ${CLONE_FAILED}`,
  'if [ -n "$fetch" ]; then',
  `  if ! out=$(git fetch --quiet origin "$fetch" 2>&1 >/dev/null); then printf '%s\\n' "$out" >&2; exit 11; fi`,
  '  if [ "$ref" != FETCH_HEAD ] && ! git merge-base --is-ancestor "$ref" FETCH_HEAD >/dev/null 2>&1; then',
  `    printf 'commit %s is not in the history of %s\\n' "$ref" "$fetch" >&2; exit 11`,
  '  fi',
  `  if ! out=$(checkout "$ref"); then printf '%s\\n' "$out" >&2; exit 11; fi`,
  'elif ! out=$(checkout "$ref"); then',
  `  if [ -z "$version" ]; then printf '%s\\n' "$out" >&2; exit 11; fi`,
  '  if git fetch --quiet origin "$version" >/dev/null 2>&1; then target=FETCH_HEAD; else target="origin/$version"; fi',
  `  if ! out=$(checkout "$target"); then printf '%s\\n' "$out" >&2; exit 11; fi`,
  'fi',
  'git rev-parse HEAD',
].join('\n');

function isoLog(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** Why a command or phase ended, as CodeBuild's contexts say it. */
type Ending = { kind: 'ok' } | { kind: 'failed'; context: PhaseContext } | { kind: 'stopped' } | { kind: 'timedOut' };

interface ActiveBuild {
  doc: BuildDocument;
  readonly done: Promise<BuildDocument>;
  resolve: (doc: BuildDocument) => void;
  child: ChildProcess | null;
  stopRequested: boolean;
  timedOut: boolean;
  readonly workDir: string;
  readonly state: ShellState;
  /** The buildspec's exported variables, once it is read. */
  exportedNames: readonly string[];
}

function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.on('error', (error) => resolvePromise({ code: 127, stdout, stderr: `${stderr}${error.message}` }));
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}

function sourceType(location: string | undefined, override: string | undefined): string {
  if (override) return override;
  if (!location) return 'NO_SOURCE';
  if (/github/i.test(location)) return 'GITHUB';
  if (/gitlab/i.test(location)) return 'GITLAB';
  if (/bitbucket/i.test(location)) return 'BITBUCKET';
  return 'NO_SOURCE';
}

/** Every file below `root` (relative paths, `/`-separated), without `.git`. */
async function walk(root: string, limit = 50_000): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (out.length >= limit) return;
      if (entry.name === '.git') continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await visit(full);
      else if (entry.isFile()) out.push(relative(root, full).split('\\').join('/'));
    }
  };
  await visit(root);
  return out;
}

export class CodeBuildService {
  public readonly region: string;
  public readonly accountId: string;
  private readonly projects = new Map<string, ProjectConfig>();
  private readonly active = new Map<string, ActiveBuild>();
  private readonly tokens = new Map<string, { buildId: string; hash: string }>();
  private readonly minuteMs: number;

  public constructor(private readonly options: CodeBuildServiceOptions) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.minuteMs = options.minuteMs ?? 60_000;
  }

  public registerProject(project: ProjectConfig): void {
    this.projects.set(project.name, project);
  }

  public project(name: string): ProjectConfig | undefined {
    return this.projects.get(name);
  }

  public projectNames(): string[] {
    return [...this.projects.keys()];
  }

  /** BatchGetBuilds: the builds found (running ones as they are now) and the ids not found. */
  public batchGet(ids: readonly string[]): { builds: BuildDocument[]; notFound: string[] } {
    const builds: BuildDocument[] = [];
    const notFound: string[] = [];
    for (const raw of ids) {
      const id = raw.includes(':build/') ? raw.slice(raw.indexOf(':build/') + 7) : raw;
      const live = this.active.get(id);
      if (live) {
        builds.push(structuredClone(live.doc));
        continue;
      }
      const stored = this.options.store.get(id);
      if (stored) builds.push(stored.document as unknown as BuildDocument);
      else notFound.push(raw);
    }
    return { builds, notFound };
  }

  public get(id: string): BuildDocument | undefined {
    return this.batchGet([id]).builds[0];
  }

  /** Resolves with the build's final document once it ends. */
  public async wait(id: string): Promise<BuildDocument> {
    const live = this.active.get(id);
    if (live) return live.done;
    const doc = this.get(id);
    if (!doc) throw new BuildResourceNotFoundError(`Build ${id} does not exist`);
    return doc;
  }

  /** StopBuild: kills the running command's process group; the build ends STOPPED. */
  public async stop(id: string): Promise<BuildDocument> {
    const bare = id.includes(':build/') ? id.slice(id.indexOf(':build/') + 7) : id;
    const live = this.active.get(bare);
    if (!live) {
      const doc = this.get(bare);
      if (!doc) throw new BuildResourceNotFoundError(`Build ${id} does not exist`);
      return doc;
    }
    live.stopRequested = true;
    this.kill(live);
    return live.done;
  }

  /** Kills the process groups of every running build (the runtime is stopping). */
  public async stopAll(): Promise<void> {
    await Promise.all([...this.active.keys()].map((id) => this.stop(id)));
  }

  private kill(build: ActiveBuild): void {
    const child = build.child;
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // The group has ended already.
    }
    const pid = child.pid;
    setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Ended on SIGTERM.
      }
    }, 2000).unref();
  }

  /**
   * StartBuild: validates the request, records the build (IN_PROGRESS) and runs it in the background. Answers
   * the build as it is at once; `wait(id)` gives its end.
   */
  public startBuild(input: StartBuildInput, context: StartBuildContext = {}): BuildDocument {
    const projectName = input.projectName;
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
    const overrides: EnvironmentVariable[] = [];
    for (const [i, v] of (input.environmentVariablesOverride ?? []).entries()) {
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
    if (input.idempotencyToken) {
      const hash = createHash('sha256')
        .update(JSON.stringify({ ...input, idempotencyToken: undefined }))
        .digest('hex');
      const seen = this.tokens.get(input.idempotencyToken);
      if (seen) {
        if (seen.hash !== hash) {
          throw new BuildInputError('The same idempotencyToken was used with different parameters');
        }
        const existing = this.get(seen.buildId);
        if (existing) return existing;
      }
      this.tokens.set(input.idempotencyToken, { buildId: '', hash });
    }
    const buildNumber = this.options.store.nextBuildNumber(projectName);
    const uuid = randomUUID();
    const id = `${projectName}:${uuid}`;
    const arn = `arn:aws:codebuild:${this.region}:${this.accountId}:build/${id}`;
    if (input.idempotencyToken) {
      const entry = this.tokens.get(input.idempotencyToken);
      if (entry) entry.buildId = id;
    }
    const variables: EnvironmentVariable[] = [
      ...(project.environmentVariables ?? []).filter((v) => !overrides.some((o) => o.name === v.name)),
      ...overrides,
    ];
    const location = input.sourceLocationOverride ?? project.sourceLocation;
    const now = Date.now();
    const doc: BuildDocument = {
      id,
      arn,
      buildNumber,
      startTime: now,
      currentPhase: 'SUBMITTED',
      buildStatus: 'IN_PROGRESS',
      ...(input.sourceVersion ? { sourceVersion: input.sourceVersion } : {}),
      projectName,
      phases: [],
      source: {
        type: sourceType(location, input.sourceTypeOverride),
        ...(location ? { location } : {}),
        ...((input.buildspecOverride ?? project.buildspec)
          ? { buildspec: (input.buildspecOverride ?? project.buildspec) as string }
          : {}),
      },
      secondarySources: [],
      secondarySourceVersions: [],
      artifacts: {},
      environment: {
        type: 'LINUX_CONTAINER',
        image: 'stepline/local-runner',
        computeType: 'BUILD_GENERAL1_SMALL',
        environmentVariables: variables,
        privilegedMode: false,
        imagePullCredentialsType: 'CODEBUILD',
      },
      serviceRole: `arn:aws:iam::${this.accountId}:role/stepline-local-build`,
      logs: {
        groupName: `/aws/codebuild/${projectName}`,
        streamName: uuid,
        deepLink: this.options.logUrl(id),
      },
      timeoutInMinutes: timeout,
      queuedTimeoutInMinutes: 480,
      buildComplete: false,
      initiator: context.initiator ?? 'stepline-local',
      encryptionKey: `arn:aws:kms:${this.region}:${this.accountId}:alias/aws/s3`,
      exportedEnvironmentVariables: [],
      reportArns: [],
      fileSystemLocations: [],
    };
    const workDir = join(this.options.workRoot, projectName, `${buildNumber}-${uuid.slice(0, 8)}`);
    let resolveDone!: (d: BuildDocument) => void;
    const done = new Promise<BuildDocument>((r) => {
      resolveDone = r;
    });
    const build: ActiveBuild = {
      doc,
      done,
      resolve: resolveDone,
      child: null,
      stopRequested: false,
      timedOut: false,
      workDir,
      state: shellState(join(workDir, 'state')),
      exportedNames: [],
    };
    this.active.set(id, build);
    this.save(build, context.executionArn ?? this.variable(build, 'STEPLINE_EXECUTION_ARN') ?? null);
    void this.execute(build, input, project, context.executionArn ?? null).catch((error: unknown) => {
      this.log(
        build,
        'FINALIZING',
        `[Container] ${isoLog(Date.now())} Internal error of the local runner: ${String((error as Error)?.message ?? error)}\n`,
      );
      this.finish(build, 'FAULT', context.executionArn ?? null);
    });
    return structuredClone(doc);
  }

  private variable(build: ActiveBuild, name: string): string | undefined {
    return build.doc.environment.environmentVariables.find((v) => v.name === name)?.value;
  }

  private save(build: ActiveBuild, executionArn: string | null): void {
    this.options.store.save({
      id: build.doc.id,
      projectName: build.doc.projectName,
      buildNumber: build.doc.buildNumber,
      status: build.doc.buildStatus,
      startTime: build.doc.startTime,
      executionArn,
      pgid: build.child?.pid ?? null,
      document: build.doc as unknown as Record<string, unknown>,
    });
  }

  private log(build: ActiveBuild, phase: string, text: string): void {
    this.options.store.log(build.doc.id, phase, text);
  }

  private emit(event: CodeBuildEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // An event listener never stops a build.
    }
  }

  private beginPhase(build: ActiveBuild, phaseType: string, executionArn: string | null): BuildPhase {
    const phase: BuildPhase = { phaseType, startTime: Date.now() };
    build.doc.phases.push(phase);
    build.doc.currentPhase = phaseType;
    this.save(build, executionArn);
    this.log(build, phaseType, `[Container] ${isoLog(phase.startTime)} Entering phase ${phaseType}\n`);
    return phase;
  }

  private endPhase(
    build: ActiveBuild,
    phase: BuildPhase,
    status: string,
    executionArn: string | null,
    context?: PhaseContext,
  ): void {
    phase.endTime = Date.now();
    phase.phaseStatus = status;
    phase.durationInSeconds = Math.round((phase.endTime - phase.startTime) / 1000);
    phase.contexts = context ? [context] : [{ statusCode: '', message: '' }];
    this.save(build, executionArn);
    this.log(
      build,
      phase.phaseType,
      `[Container] ${isoLog(phase.endTime)} Phase complete: ${phase.phaseType} State: ${status}\n`,
    );
    if (context) {
      this.log(
        build,
        phase.phaseType,
        `[Container] ${isoLog(phase.endTime)} Phase context status code: ${context.statusCode} Message: ${context.message}\n`,
      );
    }
    this.emit(phaseChangeEvent(build.doc, phase, this.region, this.accountId));
  }

  private quickPhase(build: ActiveBuild, phaseType: string, executionArn: string | null): void {
    const phase = this.beginPhase(build, phaseType, executionArn);
    this.endPhase(build, phase, 'SUCCEEDED', executionArn);
  }

  private finish(build: ActiveBuild, status: string, executionArn: string | null): void {
    if (FINAL_STATUSES.has(build.doc.buildStatus) && build.doc.buildComplete) return;
    const now = Date.now();
    build.doc.buildStatus = status;
    build.doc.buildComplete = true;
    build.doc.endTime = now;
    build.doc.currentPhase = 'COMPLETED';
    build.doc.phases.push({ phaseType: 'COMPLETED', startTime: now });
    build.child = null;
    this.save(build, executionArn);
    this.log(build, 'COMPLETED', `[Container] ${isoLog(now)} Build ${status.toLowerCase().replace('_', ' ')}\n`);
    this.options.store.closeLog(build.doc.id);
    this.active.delete(build.doc.id);
    this.emit(stateChangeEvent(build.doc, this.region, this.accountId));
    build.resolve(structuredClone(build.doc));
    void this.prune(build.doc.projectName).catch(() => {});
  }

  /** Removes the work folders of a project's older builds, keeping the newest ones. */
  private async prune(projectName: string): Promise<void> {
    const keep = this.options.keepWorkFolders ?? 10;
    const dir = join(this.options.workRoot, projectName);
    const entries = await readdir(dir).catch(() => [] as string[]);
    const running = new Set([...this.active.values()].map((b) => basename(b.workDir)));
    const sorted = entries
      .filter((e) => !running.has(e))
      .sort((a, b) => Number.parseInt(b, 10) - Number.parseInt(a, 10));
    for (const old of sorted.slice(keep)) await rm(join(dir, old), { recursive: true, force: true });
  }

  // ------------------------------------------------------------------------------------------------ running

  private async execute(
    build: ActiveBuild,
    input: StartBuildInput,
    project: ProjectConfig,
    executionArn: string | null,
  ): Promise<void> {
    const doc = build.doc;
    const srcDir = join(build.workDir, 'src');
    const artifactsDir = join(this.options.artifactsRoot, doc.projectName, String(doc.buildNumber));
    const imagesDir = project.untrusted ? join(build.workDir, 'images') : join(this.options.artifactsRoot, 'images');
    this.emit(stateChangeEvent(doc, this.region, this.accountId));
    this.quickPhase(build, 'SUBMITTED', executionArn);
    this.quickPhase(build, 'QUEUED', executionArn);
    const deadline = setTimeout(() => {
      build.timedOut = true;
      this.kill(build);
    }, doc.timeoutInMinutes * this.minuteMs);
    deadline.unref();
    try {
      // PROVISIONING: the work folder and the environment.
      const provisioning = this.beginPhase(build, 'PROVISIONING', executionArn);
      await mkdir(srcDir, { recursive: true });
      await mkdir(build.state.dir, { recursive: true });
      await mkdir(artifactsDir, { recursive: true });
      if (project.untrusted) await mkdir(join(build.workDir, 'home'), { recursive: true });
      this.endPhase(build, provisioning, 'SUCCEEDED', executionArn);

      // DOWNLOAD_SOURCE: clone, check out, read the buildspec.
      const download = this.beginPhase(build, 'DOWNLOAD_SOURCE', executionArn);
      const variables = new Map(doc.environment.environmentVariables.map((v) => [v.name, v.value]));
      const location = doc.source.location ?? (await this.options.defaultSource?.(variables));
      let buildspec: Buildspec;
      try {
        if (!location) {
          throw new BuildInputError(
            'no source: give sourceLocationOverride, a project source, or start the build from a pipeline execution',
          );
        }
        doc.source.location = location;
        doc.source.type = sourceType(location, input.sourceTypeOverride);
        doc.resolvedSourceVersion = await this.clone(build, location, input.sourceVersion, srcDir);
        const own = localDefaultBuildspec(variables.get('STEPLINE_STEP'), project.untrusted === true);
        buildspec = await this.readBuildspec(
          input.buildspecOverride ?? project.buildspec ?? own ?? 'buildspec.yml',
          srcDir,
        );
      } catch (error) {
        const code = error instanceof BuildspecError ? 'YAML_FILE_ERROR' : 'CLIENT_ERROR';
        this.log(build, 'DOWNLOAD_SOURCE', `[Container] ${isoLog(Date.now())} ${(error as Error).message}\n`);
        this.endPhase(build, download, 'FAILED', executionArn, { statusCode: code, message: (error as Error).message });
        this.quickPhase(build, 'FINALIZING', executionArn);
        this.finish(build, 'FAILED', executionArn);
        return;
      }
      build.exportedNames = buildspec.exportedVariables;
      for (const note of buildspec.notes)
        this.log(build, 'DOWNLOAD_SOURCE', `[Container] ${isoLog(Date.now())} Note: ${note}\n`);
      this.endPhase(build, download, 'SUCCEEDED', executionArn);

      const env = this.environment(
        build,
        buildspec,
        srcDir,
        artifactsDir,
        imagesDir,
        location,
        project.untrusted === true,
      );
      let failed = false;
      let stop: 'none' | 'afterBuild' | 'all' = 'none';
      let ended: 'STOPPED' | 'TIMED_OUT' | null = null;
      for (const name of PHASES) {
        if (stop === 'all') break;
        if (stop === 'afterBuild' && name !== 'post_build') break;
        const spec = buildspec.phases[name] ?? { commands: [], finally: [], onFailure: undefined };
        const phase = this.beginPhase(build, PHASE_TYPE[name], executionArn);
        const ending = await this.runPhase(build, name, spec.commands, spec.finally, env, srcDir, !failed);
        if (ending.kind === 'ok') {
          this.endPhase(build, phase, 'SUCCEEDED', executionArn);
          continue;
        }
        if (ending.kind === 'stopped' || ending.kind === 'timedOut') {
          ended = ending.kind === 'stopped' ? 'STOPPED' : 'TIMED_OUT';
          this.endPhase(
            build,
            phase,
            ended,
            executionArn,
            ended === 'TIMED_OUT'
              ? { statusCode: 'BUILD_TIMED_OUT', message: 'Build has timed out. ' }
              : { statusCode: 'BUILD_STOPPED', message: 'Build was stopped. ' },
          );
          stop = 'all';
          break;
        }
        failed = true;
        this.endPhase(build, phase, 'FAILED', executionArn, ending.context);
        if (spec.onFailure === 'CONTINUE') continue;
        if (spec.onFailure === 'ABORT') stop = 'all';
        else if (name === 'install' || name === 'pre_build') stop = 'all';
        else if (name === 'build') stop = 'afterBuild';
      }
      const uploads = ended === null && stop !== 'all';
      if (uploads) {
        const upload = this.beginPhase(build, 'UPLOAD_ARTIFACTS', executionArn);
        try {
          await this.upload(build, buildspec, srcDir, artifactsDir);
          this.endPhase(build, upload, 'SUCCEEDED', executionArn);
        } catch (error) {
          failed = true;
          this.log(build, 'UPLOAD_ARTIFACTS', `[Container] ${isoLog(Date.now())} ${(error as Error).message}\n`);
          this.endPhase(build, upload, 'FAILED', executionArn, {
            statusCode: 'CLIENT_ERROR',
            message: (error as Error).message,
          });
        }
      }
      doc.exportedEnvironmentVariables = await this.exported(build, buildspec.exportedVariables, env);
      this.quickPhase(build, 'FINALIZING', executionArn);
      this.finish(build, ended ?? (failed ? 'FAILED' : 'SUCCEEDED'), executionArn);
    } finally {
      clearTimeout(deadline);
    }
  }

  private async clone(
    build: ActiveBuild,
    location: string,
    version: string | undefined,
    srcDir: string,
  ): Promise<string> {
    const log = (text: string): void =>
      this.log(build, 'DOWNLOAD_SOURCE', `[Container] ${isoLog(Date.now())} ${text}\n`);
    const gitEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
    const parsed: SourceVersion = version ? parseSourceVersion(version) : { kind: 'name', name: 'HEAD' };
    const ref = parsed.kind === 'ref' ? parsed.commit : parsed.name;
    const [byName, fetch] = parsed.kind === 'ref' ? ['', parsed.ref] : [version ?? '', ''];
    log(`Cloning ${location}`);
    const out = await run(
      'bash',
      ['--noprofile', '--norc', '-c', CHECKOUT_SCRIPT, 'checkout', location, srcDir, ref, byName, fetch],
      { env: gitEnv },
    );
    const reason = out.stderr.trim().split('\n').at(-1);
    if (out.code === CLONE_FAILED)
      throw new BuildInputError(`could not clone ${location}: ${reason || 'git clone failed'}`);
    if (out.code !== 0)
      throw new BuildInputError(`could not check out ${version ?? ref} from ${location}: ${reason ?? ''}`);
    const sha = out.stdout.trim();
    log(`Source is ${location} at ${sha}${version && version !== sha ? ` (${version})` : ''}`);
    return sha;
  }

  private async readBuildspec(value: string, srcDir: string): Promise<Buildspec> {
    if (isInlineBuildspec(value)) return parseBuildspec(value, 'buildspecOverride');
    const file = resolve(srcDir, value);
    if (!file.startsWith(resolve(srcDir)))
      throw new BuildspecError(`the buildspec path ${value} leaves the source folder`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      throw new BuildspecError(`YAML_FILE_ERROR: the buildspec file ${value} does not exist in the source`);
    }
    return parseBuildspec(text, value);
  }

  private environment(
    build: ActiveBuild,
    buildspec: Buildspec,
    srcDir: string,
    artifactsDir: string,
    imagesDir: string,
    location: string,
    untrusted: boolean,
  ): NodeJS.ProcessEnv {
    const doc = build.doc;
    const env: NodeJS.ProcessEnv = {};
    const passed = untrusted
      ? PASSED_BY_DEFAULT.filter((name) => name !== 'HOME')
      : [...PASSED_BY_DEFAULT, ...(this.options.passEnvironment ?? [])];
    for (const name of passed) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    if (untrusted) env['HOME'] = join(build.workDir, 'home');
    Object.assign(env, buildspec.variables);
    env['PATH'] = this.options.path;
    env['SHELL'] = '/bin/bash';
    env['AWS_REGION'] = this.region;
    env['AWS_DEFAULT_REGION'] = this.region;
    env['CODEBUILD_BUILD_ARN'] = doc.arn;
    env['CODEBUILD_BUILD_ID'] = doc.id;
    env['CODEBUILD_BUILD_IMAGE'] = doc.environment.image;
    env['CODEBUILD_BUILD_NUMBER'] = String(doc.buildNumber);
    env['CODEBUILD_BUILD_SUCCEEDING'] = '1';
    env['CODEBUILD_INITIATOR'] = doc.initiator;
    env['CODEBUILD_KMS_KEY_ID'] = doc.encryptionKey;
    env['CODEBUILD_LOG_PATH'] = doc.logs.streamName;
    env['CODEBUILD_PROJECT_NAME'] = doc.projectName;
    env['CODEBUILD_RESOLVED_SOURCE_VERSION'] = doc.resolvedSourceVersion ?? '';
    env['CODEBUILD_SOURCE_REPO_URL'] = location;
    env['CODEBUILD_SOURCE_VERSION'] = doc.sourceVersion ?? doc.resolvedSourceVersion ?? '';
    env['CODEBUILD_SRC_DIR'] = srcDir;
    env['CODEBUILD_START_TIME'] = String(doc.startTime);
    env['CODEBUILD_BUILD_URL'] = doc.logs.deepLink;
    env['CODEBUILD_PUBLIC_BUILD_URL'] = doc.logs.deepLink;
    env['STEPLINE_LOCAL'] = '1';
    env['STEPLINE_ARTIFACTS_DIR'] = artifactsDir;
    env['STEPLINE_IMAGES_DIR'] = imagesDir;
    env['STEPLINE_BUILD_STATE_DIR'] = build.state.dir;
    for (const v of doc.environment.environmentVariables) env[v.name] = v.value;
    return env;
  }

  /** Runs a phase's commands, then its `finally` commands; the first failure is the phase's. */
  private async runPhase(
    build: ActiveBuild,
    name: PhaseName,
    commands: readonly string[],
    finallyCommands: readonly string[],
    env: NodeJS.ProcessEnv,
    srcDir: string,
    succeeding: boolean,
  ): Promise<Ending> {
    const phaseType = PHASE_TYPE[name];
    let ending: Ending = { kind: 'ok' };
    for (const command of commands) {
      ending = await this.runCommand(build, phaseType, command, env, srcDir, succeeding);
      if (ending.kind !== 'ok') break;
    }
    if (ending.kind === 'stopped' || ending.kind === 'timedOut') return ending;
    for (const command of finallyCommands) {
      const result = await this.runCommand(build, phaseType, command, env, srcDir, succeeding && ending.kind === 'ok');
      if (result.kind === 'stopped' || result.kind === 'timedOut') return result;
      if (result.kind === 'failed' && ending.kind === 'ok') ending = result;
    }
    return ending;
  }

  private async runCommand(
    build: ActiveBuild,
    phaseType: string,
    command: string,
    env: NodeJS.ProcessEnv,
    srcDir: string,
    succeeding: boolean,
  ): Promise<Ending> {
    if (build.stopRequested) return { kind: 'stopped' };
    if (build.timedOut) return { kind: 'timedOut' };
    this.log(build, phaseType, `[Container] ${isoLog(Date.now())} Running command ${command}\n`);
    const script = join(build.state.dir, 'command.sh');
    const marker = join(build.state.dir, NO_DOCKER_MARKER);
    await rm(marker, { force: true });
    const forced = `export CODEBUILD_BUILD_SUCCEEDING=${succeeding ? 1 : 0}\n`;
    await writeFile(script, commandScript(`${forced}${command}`, build.state, srcDir, build.exportedNames), {
      mode: 0o700,
    });
    const code = await new Promise<number | 'signal'>((resolvePromise) => {
      const child = spawn('bash', ['--noprofile', '--norc', script], {
        cwd: srcDir,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      build.child = child;
      this.save(
        build,
        build.doc.environment.environmentVariables.find((v) => v.name === 'STEPLINE_EXECUTION_ARN')?.value ?? null,
      );
      const onData = (chunk: Buffer): void => this.log(build, phaseType, chunk.toString('utf8'));
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', () => resolvePromise(127));
      child.on('close', (exitCode, signal) => resolvePromise(signal ? 'signal' : (exitCode ?? 1)));
    });
    build.child = null;
    if (build.timedOut) return { kind: 'timedOut' };
    if (build.stopRequested) return { kind: 'stopped' };
    if (code === 0) return { kind: 'ok' };
    const status = code === 'signal' ? 'killed by a signal' : `exit status ${code}`;
    let message = `Error while executing command: ${command.split('\n')[0]}. Reason: ${status}`;
    if (existsSync(marker) && code === NO_DOCKER_EXIT) message += `: ${NO_DOCKER_MESSAGE}`;
    return { kind: 'failed', context: { statusCode: 'COMMAND_EXECUTION_ERROR', message } };
  }

  private async exported(
    build: ActiveBuild,
    names: readonly string[],
    env: NodeJS.ProcessEnv,
  ): Promise<{ name: string; value: string }[]> {
    if (names.length === 0) return [];
    // The last command left them (commandScript); a shell reads them from the saved state only when no command ran.
    let text = await readFile(build.state.exported, 'utf8').catch(() => null);
    if (text === null) {
      const script = join(build.state.dir, 'export.sh');
      await writeFile(script, exportScript(build.state), { mode: 0o700 });
      text = (await run('bash', ['--noprofile', '--norc', script, ...names], { env })).stdout;
    }
    const values = new Map<string, string>();
    for (const pair of text.split('\0')) {
      const eq = pair.indexOf('=');
      if (eq > 0) values.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return names.filter((n) => values.has(n)).map((name) => ({ name, value: values.get(name) as string }));
  }

  // ------------------------------------------------------------------------------------------------ uploads

  private async upload(build: ActiveBuild, buildspec: Buildspec, srcDir: string, artifactsDir: string): Promise<void> {
    const doc = build.doc;
    const log = (text: string): void =>
      this.log(build, 'UPLOAD_ARTIFACTS', `[Container] ${isoLog(Date.now())} ${text}\n`);
    const reports: TestReport[] = [];
    for (const group of buildspec.reports) {
      const base = resolve(srcDir, group.baseDirectory);
      const match = picomatch(group.files.length ? [...group.files] : ['**/*'], { dot: true });
      const files = (await walk(base)).filter((f) => match(f));
      const cases: TestCase[] = [];
      const problems: string[] = [];
      for (const file of files) {
        try {
          cases.push(...parseJUnit(await readFile(join(base, file), 'utf8')));
        } catch (error) {
          problems.push(`${file}: ${(error as Error).message}`);
        }
      }
      const arn = `arn:aws:codebuild:${this.region}:${this.accountId}:report/${doc.projectName}-${group.name}:${doc.logs.streamName}`;
      const report = summarize(group.name, arn, files, cases, problems);
      reports.push(report);
      doc.reportArns.push(arn);
      log(
        `Report group ${group.name}: ${files.length} file(s), ${report.total} test case(s): ${report.statusCounts.SUCCEEDED} passed, ${
          report.statusCounts.FAILED + report.statusCounts.ERROR
        } failed, ${report.statusCounts.SKIPPED} skipped`,
      );
      for (const problem of problems) log(`Report group ${group.name}: ${problem}`);
    }
    if (reports.length > 0) await writeFile(join(artifactsDir, 'reports.json'), JSON.stringify(reports, null, 2));
    const spec = buildspec.artifacts;
    if (!spec || spec.files.length === 0) return;
    const base = resolve(srcDir, spec.baseDirectory);
    const include = picomatch([...spec.files], { dot: true });
    const exclude = spec.excludePaths.length ? picomatch([...spec.excludePaths], { dot: true }) : () => false;
    const files = (await walk(base)).filter((f) => include(f) && !exclude(f));
    if (files.length === 0) {
      throw new Error(`no matching artifact paths found for ${spec.files.join(', ')} in ${spec.baseDirectory}`);
    }
    const target = join(artifactsDir, 'artifacts');
    for (const file of files) {
      const destination = join(target, spec.discardPaths ? basename(file) : file);
      await mkdir(dirname(destination), { recursive: true });
      await cp(join(base, file), destination);
    }
    doc.artifacts = { location: pathToFileURL(target).href };
    log(`Uploaded ${files.length} artifact file(s) to ${doc.artifacts.location}`);
  }

  /** The test reports of a build (from its artifacts folder), or none. */
  public reports(buildId: string): TestReport[] {
    const doc = this.get(buildId);
    if (!doc) return [];
    const file = join(this.options.artifactsRoot, doc.projectName, String(doc.buildNumber), 'reports.json');
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as TestReport[];
    } catch {
      return [];
    }
  }

  /**
   * After a restart: builds that were running when the runtime stopped end FAULT with a context that says why,
   * and their process groups (if any still run) are killed.
   */
  public async recover(): Promise<string[]> {
    const recovered: string[] = [];
    for (const stored of this.options.store.inProgress()) {
      if (this.active.has(stored.id)) continue;
      if (stored.pgid) killOrphan(stored.pgid, stored.id);
      const doc = stored.document as unknown as BuildDocument;
      const now = Date.now();
      const current = doc.phases.at(-1);
      if (current && current.phaseStatus === undefined && current.phaseType !== 'COMPLETED') {
        current.phaseStatus = 'FAULT';
        current.endTime = now;
        current.durationInSeconds = Math.round((now - current.startTime) / 1000);
        current.contexts = [
          {
            statusCode: 'LOCAL_RUNTIME_STOPPED',
            message:
              'The local runtime stopped while this phase ran (process killed or crashed); the build did not finish.',
          },
        ];
      }
      doc.phases.push({ phaseType: 'COMPLETED', startTime: now });
      doc.buildStatus = 'FAULT';
      doc.buildComplete = true;
      doc.currentPhase = 'COMPLETED';
      doc.endTime = now;
      this.options.store.save({
        ...stored,
        status: 'FAULT',
        pgid: null,
        document: doc as unknown as Record<string, unknown>,
      });
      this.options.store.log(
        stored.id,
        'COMPLETED',
        `[Container] ${isoLog(now)} The local runtime stopped while this build ran; it ended FAULT at the restart.\n`,
      );
      this.emit(stateChangeEvent(doc, this.region, this.accountId));
      recovered.push(stored.id);
    }
    return recovered;
  }
}

/** Kills a process group left by a runtime that died, when it is still the build's (its environment says so). */
function killOrphan(pgid: number, buildId: string): void {
  try {
    const environ = readFileSync(`/proc/${pgid}/environ`, 'utf8');
    if (!environ.split('\0').includes(`CODEBUILD_BUILD_ID=${buildId}`)) return;
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Gone already, or not ours to kill.
  }
}
