import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ActiveBuild, isoLog } from './active';
import { uploadArtifacts } from './artifacts';
import { type Buildspec, PHASE_TYPE, PHASES } from './buildspec';
import { localDefaultBuildspec } from './default-buildspecs';
import { type BuildFolders, buildEnvironment, type EnvironmentOptions } from './environment';
import { BuildInputError, BuildspecError } from './errors';
import type { BuildRecorder } from './recorder';
import { type ProjectConfig, type StartBuildInput, sourceType } from './registry';
import { type CommandLaunch, type CommandRunner, directLaunch } from './runner';
import type { Sandbox } from './sandbox';
import { cloneSource, readBuildspec } from './source';

/**
 * A build's phases as CodeBuild runs them: SUBMITTED, QUEUED, PROVISIONING, DOWNLOAD_SOURCE, INSTALL, PRE_BUILD,
 * BUILD, POST_BUILD, UPLOAD_ARTIFACTS, FINALIZING, COMPLETED. The transitions follow CodeBuild's:
 * - a failure in INSTALL or PRE_BUILD skips every later phase up to FINALIZING;
 * - a failure in BUILD still runs POST_BUILD (with `CODEBUILD_BUILD_SUCCEEDING=0`), and UPLOAD_ARTIFACTS;
 * - a phase's `on-failure: CONTINUE` goes on to the next phase, `ABORT` stops at once;
 * - a phase's `finally` commands run after its `commands`, whether they failed or not.
 */

export interface PhaseDependencies {
  readonly recorder: BuildRecorder;
  readonly runner: CommandRunner;
  readonly environment: EnvironmentOptions;
  readonly region: string;
  readonly accountId: string;
  /** Where artifacts, manifests and images are kept after the work folder is gone. */
  readonly artifactsRoot: string;
  /** Milliseconds in a minute of build timeout. */
  readonly minuteMs: number;
  /** Stops the build's running command (the timeout). */
  readonly kill: (build: ActiveBuild) => void;
  /** Where to clone from when neither the request nor the project names a source. */
  readonly defaultSource?: (variables: ReadonlyMap<string, string>) => Promise<string | undefined>;
  /** Where untrusted builds run. */
  readonly sandbox: Sandbox;
}

interface Prepared {
  readonly buildspec: Buildspec;
  readonly location: string;
  readonly launch: CommandLaunch;
}

/** The folders of a build: what its commands see, and where the runtime keeps its reports and artifacts. */
interface Folders extends BuildFolders {
  /** The build's folder under the artifacts root (reports.json, artifacts), written by the runtime only. */
  readonly keptDir: string;
}

function foldersOf(build: ActiveBuild, project: ProjectConfig, artifactsRoot: string): Folders {
  const keptDir = join(artifactsRoot, build.doc.projectName, String(build.doc.buildNumber));
  const untrusted = project.untrusted === true;
  return {
    srcDir: join(build.workDir, 'src'),
    // A sandboxed build writes only into its own work folder; the runtime copies what it keeps (artifacts.ts).
    artifactsDir: untrusted ? join(build.workDir, 'artifacts') : keptDir,
    imagesDir: untrusted ? join(build.workDir, 'images') : join(artifactsRoot, 'images'),
    keptDir,
  };
}

/**
 * How the commands start: a trusted build's directly (under a launcher with its environment), an untrusted one's in
 * the sandbox, which sees the build's source, home, images, artifacts and shell state (read-write) and the command
 * scripts (read-only, so that it cannot change what the runner runs next).
 */
function launchOf(
  build: ActiveBuild,
  project: ProjectConfig,
  folders: Folders,
  deps: PhaseDependencies,
  bwrap: string,
) {
  if (!project.untrusted) return directLaunch(build.state.dir);
  const scriptDir = join(build.workDir, 'runner');
  const launch: CommandLaunch = {
    scriptDir,
    command: (script, args = []) => ({
      file: bwrap,
      args: deps.sandbox.args(
        {
          writable: [
            folders.srcDir,
            folders.artifactsDir,
            folders.imagesDir,
            join(build.workDir, 'home'),
            build.state.dir,
          ],
          readOnly: [scriptDir],
          cwd: folders.srcDir,
          path: deps.environment.path,
        },
        ['bash', '--noprofile', '--norc', script, ...args],
      ),
    }),
  };
  return launch;
}

/** Runs a build from SUBMITTED to COMPLETED. */
export async function executeBuild(
  build: ActiveBuild,
  input: StartBuildInput,
  project: ProjectConfig,
  executionArn: string | null,
  deps: PhaseDependencies,
): Promise<void> {
  const { recorder } = deps;
  const doc = build.doc;
  const folders = foldersOf(build, project, deps.artifactsRoot);
  recorder.started(build);
  recorder.quickPhase(build, 'SUBMITTED', executionArn);
  recorder.quickPhase(build, 'QUEUED', executionArn);
  const deadline = setTimeout(() => {
    build.timedOut = true;
    deps.kill(build);
  }, doc.timeoutInMinutes * deps.minuteMs);
  deadline.unref();
  try {
    const prepared = await prepare(build, input, project, folders, executionArn, deps);
    if (!prepared) return;
    const env = buildEnvironment(
      build,
      prepared.buildspec,
      folders,
      prepared.location,
      project.untrusted === true,
      deps.environment,
    );
    await runPhases(build, prepared, env, folders, executionArn, deps);
  } finally {
    clearTimeout(deadline);
  }
}

/** PROVISIONING (the folders) and DOWNLOAD_SOURCE (clone, buildspec); undefined when the build ended there. */
async function prepare(
  build: ActiveBuild,
  input: StartBuildInput,
  project: ProjectConfig,
  folders: Folders,
  executionArn: string | null,
  deps: PhaseDependencies,
): Promise<Prepared | undefined> {
  const { recorder } = deps;
  const doc = build.doc;
  const provisioning = recorder.beginPhase(build, 'PROVISIONING', executionArn);
  await mkdir(folders.srcDir, { recursive: true });
  await mkdir(build.state.dir, { recursive: true });
  await mkdir(folders.keptDir, { recursive: true });
  let bwrap = '';
  if (project.untrusted) {
    for (const dir of ['home', 'images', 'artifacts', 'runner'])
      await mkdir(join(build.workDir, dir), { recursive: true });
    // Untrusted code runs in a sandbox or not at all (docs/adr/0088).
    const sandbox = await deps.sandbox.available();
    if (!sandbox.ok) {
      const message = `This build runs code from outside the repository (a pull request from a fork), which the local runtime runs only in a sandbox, and none can be made here: ${sandbox.reason}`;
      recorder.line(build, 'PROVISIONING', message);
      recorder.endPhase(build, provisioning, 'FAILED', executionArn, { statusCode: 'CLIENT_ERROR', message });
      recorder.quickPhase(build, 'FINALIZING', executionArn);
      recorder.finish(build, 'FAILED', executionArn);
      return undefined;
    }
    bwrap = sandbox.command;
  }
  recorder.endPhase(build, provisioning, 'SUCCEEDED', executionArn);

  const download = recorder.beginPhase(build, 'DOWNLOAD_SOURCE', executionArn);
  const variables = new Map(doc.environment.environmentVariables.map((v) => [v.name, v.value]));
  const location = doc.source.location ?? (await deps.defaultSource?.(variables));
  let buildspec: Buildspec;
  try {
    if (!location) {
      throw new BuildInputError(
        'no source: give sourceLocationOverride, a project source, or start the build from a pipeline execution',
      );
    }
    doc.source.location = location;
    doc.source.type = sourceType(location, input.sourceTypeOverride);
    doc.resolvedSourceVersion = await cloneSource(
      location,
      input.sourceVersion,
      folders.srcDir,
      (text) => recorder.line(build, 'DOWNLOAD_SOURCE', text),
      project.untrusted ? 'copy' : 'shared',
    );
    const own = localDefaultBuildspec(variables.get('STEPLINE_STEP'), project.untrusted === true);
    buildspec = await readBuildspec(
      input.buildspecOverride ?? project.buildspec ?? own ?? 'buildspec.yml',
      folders.srcDir,
    );
  } catch (error) {
    const code = error instanceof BuildspecError ? 'YAML_FILE_ERROR' : 'CLIENT_ERROR';
    recorder.line(build, 'DOWNLOAD_SOURCE', (error as Error).message);
    recorder.endPhase(build, download, 'FAILED', executionArn, { statusCode: code, message: (error as Error).message });
    recorder.quickPhase(build, 'FINALIZING', executionArn);
    recorder.finish(build, 'FAILED', executionArn);
    return undefined;
  }
  build.exportedNames = buildspec.exportedVariables;
  for (const note of buildspec.notes) recorder.line(build, 'DOWNLOAD_SOURCE', `Note: ${note}`);
  recorder.endPhase(build, download, 'SUCCEEDED', executionArn);
  return { buildspec, location, launch: launchOf(build, project, folders, deps, bwrap) };
}

/** INSTALL to POST_BUILD, UPLOAD_ARTIFACTS, FINALIZING, and the build's end. */
async function runPhases(
  build: ActiveBuild,
  prepared: Prepared,
  env: NodeJS.ProcessEnv,
  folders: Folders,
  executionArn: string | null,
  deps: PhaseDependencies,
): Promise<void> {
  const { recorder, runner } = deps;
  const { buildspec, launch } = prepared;
  const doc = build.doc;
  let failed = false;
  let stop: 'none' | 'afterBuild' | 'all' = 'none';
  let ended: 'STOPPED' | 'TIMED_OUT' | null = null;
  for (const name of PHASES) {
    if (stop === 'all') break;
    if (stop === 'afterBuild' && name !== 'post_build') break;
    const spec = buildspec.phases[name] ?? { commands: [], finally: [], onFailure: undefined };
    const phase = recorder.beginPhase(build, PHASE_TYPE[name], executionArn);
    const ending = await runner.runPhase(
      build,
      name,
      spec.commands,
      spec.finally,
      env,
      folders.srcDir,
      !failed,
      launch,
    );
    if (ending.kind === 'ok') {
      recorder.endPhase(build, phase, 'SUCCEEDED', executionArn);
      continue;
    }
    if (ending.kind === 'stopped' || ending.kind === 'timedOut') {
      ended = ending.kind === 'stopped' ? 'STOPPED' : 'TIMED_OUT';
      recorder.endPhase(
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
    recorder.endPhase(build, phase, 'FAILED', executionArn, ending.context);
    if (spec.onFailure === 'CONTINUE') continue;
    if (spec.onFailure === 'ABORT') stop = 'all';
    else if (name === 'install' || name === 'pre_build') stop = 'all';
    else if (name === 'build') stop = 'afterBuild';
  }
  if (ended === null && stop !== 'all') {
    const upload = recorder.beginPhase(build, 'UPLOAD_ARTIFACTS', executionArn);
    try {
      await uploadArtifacts(doc, buildspec, folders.srcDir, folders.keptDir, deps, (text) =>
        recorder.line(build, 'UPLOAD_ARTIFACTS', text),
      );
      recorder.endPhase(build, upload, 'SUCCEEDED', executionArn);
    } catch (error) {
      failed = true;
      recorder.log(build, 'UPLOAD_ARTIFACTS', `[Container] ${isoLog(Date.now())} ${(error as Error).message}\n`);
      recorder.endPhase(build, upload, 'FAILED', executionArn, {
        statusCode: 'CLIENT_ERROR',
        message: (error as Error).message,
      });
    }
  }
  doc.exportedEnvironmentVariables = await runner.exported(build, buildspec.exportedVariables, env, launch);
  recorder.quickPhase(build, 'FINALIZING', executionArn);
  recorder.finish(build, ended ?? (failed ? 'FAILED' : 'SUCCEEDED'), executionArn);
}
