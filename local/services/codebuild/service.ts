import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { CodeBuildEvent } from '../../../core/status/contracts';
import type { BuildStore } from '../../store/builds';
import { type ActiveBuild, bareBuildId, isoLog, variableOf } from './active';
import { readReports } from './artifacts';
import { BuildResourceNotFoundError } from './errors';
import { executeBuild, type PhaseDependencies } from './phases';
import { BuildRecorder } from './recorder';
import {
  checkStartBuild,
  IdempotencyTokens,
  newBuildDocument,
  type ProjectConfig,
  ProjectRegistry,
  type StartBuildContext,
  type StartBuildInput,
} from './registry';
import type { TestReport } from './reports';
import { CommandRunner, killBuild, killOrphan } from './runner';
import { Sandbox, type SandboxOptions } from './sandbox';
import { type BuildDocument, stateChangeEvent } from './shapes';
import { shellState } from './shell';

export type { ProjectConfig, StartBuildContext, StartBuildInput } from './registry';

/**
 * The local CodeBuild: projects, and builds that run a buildspec 0.2 in a work folder on this machine.
 *
 * A build clones the source (a Git URL, a local path or a `file://` URL) at the requested version (source.ts), then
 * runs the phases as CodeBuild does (phases.ts). Each command runs in its own process group (runner.ts): StopBuild
 * and the build timeout kill the group. Every phase change is saved, logged, and told to `onEvent` as CodeBuild's
 * EventBridge events (recorder.ts). Projects and StartBuild's checks are in registry.ts, uploads in artifacts.ts.
 * Untrusted projects' builds run in a sandbox (sandbox.ts), or are refused where none can be made.
 */

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
  /**
   * The sandbox of untrusted projects' builds (sandbox.ts): the bwrap to use, the folders it must not see besides the
   * work and artifacts roots (the runtime's state folder), the folders it sees read-only (the build tools).
   */
  readonly sandbox?: SandboxOptions;
}

export class CodeBuildService {
  public readonly region: string;
  public readonly accountId: string;
  private readonly projects: ProjectRegistry;
  private readonly active = new Map<string, ActiveBuild>();
  private readonly tokens = new IdempotencyTokens();
  private readonly recorder: BuildRecorder;
  private readonly phases: PhaseDependencies;

  public constructor(private readonly options: CodeBuildServiceOptions) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.projects = new ProjectRegistry(this.region, this.accountId);
    this.recorder = new BuildRecorder(options.store, this.region, this.accountId, options.onEvent, (build) => {
      this.active.delete(build.doc.id);
      void this.prune(build.doc.projectName).catch(() => {});
    });
    this.phases = {
      recorder: this.recorder,
      runner: new CommandRunner(this.recorder),
      environment: {
        path: options.path,
        region: this.region,
        ...(options.passEnvironment ? { passEnvironment: options.passEnvironment } : {}),
      },
      region: this.region,
      accountId: this.accountId,
      artifactsRoot: options.artifactsRoot,
      minuteMs: options.minuteMs ?? 60_000,
      kill: killBuild,
      ...(options.defaultSource ? { defaultSource: options.defaultSource } : {}),
      sandbox: new Sandbox({
        ...options.sandbox,
        hidden: [...(options.sandbox?.hidden ?? []), options.workRoot, options.artifactsRoot],
      }),
    };
  }

  public registerProject(project: ProjectConfig): void {
    this.projects.register(project);
  }

  public project(name: string): ProjectConfig | undefined {
    return this.projects.get(name);
  }

  public projectNames(): string[] {
    return this.projects.names();
  }

  /** BatchGetBuilds: the builds found (running ones as they are now) and the ids not found. */
  public batchGet(ids: readonly string[]): { builds: BuildDocument[]; notFound: string[] } {
    const builds: BuildDocument[] = [];
    const notFound: string[] = [];
    for (const raw of ids) {
      const id = bareBuildId(raw);
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
    const bare = bareBuildId(id);
    const live = this.active.get(bare);
    if (!live) {
      const doc = this.get(bare);
      if (!doc) throw new BuildResourceNotFoundError(`Build ${id} does not exist`);
      return doc;
    }
    live.stopRequested = true;
    killBuild(live);
    return live.done;
  }

  /** Kills the process groups of every running build (the runtime is stopping). */
  public async stopAll(): Promise<void> {
    await Promise.all([...this.active.keys()].map((id) => this.stop(id)));
  }

  /**
   * StartBuild: validates the request, records the build (IN_PROGRESS) and runs it in the background. Answers
   * the build as it is at once; `wait(id)` gives its end.
   */
  public startBuild(input: StartBuildInput, context: StartBuildContext = {}): BuildDocument {
    const project = this.projects.require(input.projectName);
    const { variables, timeout } = checkStartBuild(input, project);
    const repeated = this.tokens.check(input);
    const existing = repeated ? this.get(repeated) : undefined;
    if (existing) return existing;
    const buildNumber = this.options.store.nextBuildNumber(project.name);
    const uuid = randomUUID();
    const id = `${project.name}:${uuid}`;
    this.tokens.started(input, id);
    const doc = newBuildDocument({
      id,
      uuid,
      arn: `arn:aws:codebuild:${this.region}:${this.accountId}:build/${id}`,
      buildNumber,
      input,
      project,
      variables,
      timeout,
      initiator: context.initiator ?? 'stepline-local',
      region: this.region,
      accountId: this.accountId,
      deepLink: this.options.logUrl(id),
    });
    const workDir = join(this.options.workRoot, project.name, `${buildNumber}-${uuid.slice(0, 8)}`);
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
    const executionArn = context.executionArn ?? variableOf(build, 'STEPLINE_EXECUTION_ARN') ?? null;
    this.recorder.save(build, executionArn);
    void executeBuild(build, input, project, context.executionArn ?? null, this.phases).catch((error: unknown) => {
      this.recorder.log(
        build,
        'FINALIZING',
        `[Container] ${isoLog(Date.now())} Internal error of the local runner: ${String((error as Error)?.message ?? error)}\n`,
      );
      this.recorder.finish(build, 'FAULT', context.executionArn ?? null);
    });
    return structuredClone(doc);
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

  /** The test reports of a build (from its artifacts folder), or none. */
  public reports(buildId: string): TestReport[] {
    const doc = this.get(buildId);
    return doc ? readReports(this.options.artifactsRoot, doc) : [];
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
      this.recorder.emit(stateChangeEvent(doc, this.region, this.accountId));
      recovered.push(stored.id);
    }
    return recovered;
  }
}
