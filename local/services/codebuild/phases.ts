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
import type { CommandRunner } from './runner';
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
}

interface Prepared {
  readonly buildspec: Buildspec;
  readonly location: string;
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
  const folders: BuildFolders = {
    srcDir: join(build.workDir, 'src'),
    artifactsDir: join(deps.artifactsRoot, doc.projectName, String(doc.buildNumber)),
    imagesDir: project.untrusted ? join(build.workDir, 'images') : join(deps.artifactsRoot, 'images'),
  };
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
    await runPhases(build, prepared.buildspec, env, folders, executionArn, deps);
  } finally {
    clearTimeout(deadline);
  }
}

/** PROVISIONING (the folders) and DOWNLOAD_SOURCE (clone, buildspec); undefined when the build ended there. */
async function prepare(
  build: ActiveBuild,
  input: StartBuildInput,
  project: ProjectConfig,
  folders: BuildFolders,
  executionArn: string | null,
  deps: PhaseDependencies,
): Promise<Prepared | undefined> {
  const { recorder } = deps;
  const doc = build.doc;
  const provisioning = recorder.beginPhase(build, 'PROVISIONING', executionArn);
  await mkdir(folders.srcDir, { recursive: true });
  await mkdir(build.state.dir, { recursive: true });
  await mkdir(folders.artifactsDir, { recursive: true });
  if (project.untrusted) await mkdir(join(build.workDir, 'home'), { recursive: true });
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
    doc.resolvedSourceVersion = await cloneSource(location, input.sourceVersion, folders.srcDir, (text) =>
      recorder.line(build, 'DOWNLOAD_SOURCE', text),
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
  return { buildspec, location };
}

/** INSTALL to POST_BUILD, UPLOAD_ARTIFACTS, FINALIZING, and the build's end. */
async function runPhases(
  build: ActiveBuild,
  buildspec: Buildspec,
  env: NodeJS.ProcessEnv,
  folders: BuildFolders,
  executionArn: string | null,
  deps: PhaseDependencies,
): Promise<void> {
  const { recorder, runner } = deps;
  const doc = build.doc;
  let failed = false;
  let stop: 'none' | 'afterBuild' | 'all' = 'none';
  let ended: 'STOPPED' | 'TIMED_OUT' | null = null;
  for (const name of PHASES) {
    if (stop === 'all') break;
    if (stop === 'afterBuild' && name !== 'post_build') break;
    const spec = buildspec.phases[name] ?? { commands: [], finally: [], onFailure: undefined };
    const phase = recorder.beginPhase(build, PHASE_TYPE[name], executionArn);
    const ending = await runner.runPhase(build, name, spec.commands, spec.finally, env, folders.srcDir, !failed);
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
      await uploadArtifacts(doc, buildspec, folders.srcDir, folders.artifactsDir, deps, (text) =>
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
  doc.exportedEnvironmentVariables = await runner.exported(build, buildspec.exportedVariables, env);
  recorder.quickPhase(build, 'FINALIZING', executionArn);
  recorder.finish(build, ended ?? (failed ? 'FAILED' : 'SUCCEEDED'), executionArn);
}
