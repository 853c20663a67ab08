import { spawn } from 'node:child_process';
import { constants, lstatSync, readFileSync } from 'node:fs';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ActiveBuild, type Ending, isoLog, variableOf } from './active';
import { PHASE_TYPE, type PhaseName } from './buildspec';
import type { BuildRecorder } from './recorder';
import { commandScript, exportScript } from './shell';
import { run } from './source';
import { NO_DOCKER_EXIT, NO_DOCKER_MARKER, NO_DOCKER_MESSAGE } from './tools';

/**
 * The processes of a build: each buildspec command is its own bash process in its own process group (StopBuild and
 * the build timeout kill the group), with the variables and working directory of the commands before it (shell.ts).
 * Its output goes to the build's log as it comes.
 */

/** How a build's commands are started: directly (trusted builds) or in the sandbox (untrusted ones). */
export interface CommandLaunch {
  /** Where the runner writes the command scripts (read-only to a sandboxed command). */
  readonly scriptDir: string;
  /** The process that runs `bash <script> [args]`. */
  command(script: string, args?: readonly string[]): { readonly file: string; readonly args: readonly string[] };
}

/**
 * A trusted build's command runs under a bash of its own that only waits for it: the command's parent process has the
 * build's environment, not the runtime's (whose environment holds the webhook secret and the Git host tokens). A
 * command killed by a signal is reported as killed by that signal (and bash's own note of it stays out of the log).
 */
const LAUNCHER =
  'exec 3>&2 2>/dev/null; bash --noprofile --norc "$@" 2>&3 3>&-; rc=$?; if [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then kill -s "$((rc - 128))" $$; fi; exit "$rc"';

export function directLaunch(scriptDir: string): CommandLaunch {
  return {
    scriptDir,
    command: (script, args = []) => ({
      file: 'bash',
      args: ['--noprofile', '--norc', '-c', LAUNCHER, 'stepline-build', script, ...args],
    }),
  };
}

export class CommandRunner {
  public constructor(private readonly recorder: BuildRecorder) {}

  /** Runs a phase's commands, then its `finally` commands; the first failure is the phase's. */
  public async runPhase(
    build: ActiveBuild,
    name: PhaseName,
    commands: readonly string[],
    finallyCommands: readonly string[],
    env: NodeJS.ProcessEnv,
    srcDir: string,
    succeeding: boolean,
    launch: CommandLaunch,
  ): Promise<Ending> {
    const phaseType = PHASE_TYPE[name];
    let ending: Ending = { kind: 'ok' };
    for (const command of commands) {
      ending = await this.runCommand(build, phaseType, command, { env, srcDir, succeeding, launch });
      if (ending.kind !== 'ok') break;
    }
    if (ending.kind === 'stopped' || ending.kind === 'timedOut') return ending;
    for (const command of finallyCommands) {
      const result = await this.runCommand(build, phaseType, command, {
        env,
        srcDir,
        succeeding: succeeding && ending.kind === 'ok',
        launch,
      });
      if (result.kind === 'stopped' || result.kind === 'timedOut') return result;
      if (result.kind === 'failed' && ending.kind === 'ok') ending = result;
    }
    return ending;
  }

  private async runCommand(
    build: ActiveBuild,
    phaseType: string,
    command: string,
    how: { env: NodeJS.ProcessEnv; srcDir: string; succeeding: boolean; launch: CommandLaunch },
  ): Promise<Ending> {
    const { env, srcDir, succeeding, launch } = how;
    if (build.stopRequested) return { kind: 'stopped' };
    if (build.timedOut) return { kind: 'timedOut' };
    this.recorder.log(build, phaseType, `[Container] ${isoLog(Date.now())} Running command ${command}\n`);
    const script = join(launch.scriptDir, 'command.sh');
    const marker = join(build.state.dir, NO_DOCKER_MARKER);
    await rm(marker, { force: true });
    const forced = `export CODEBUILD_BUILD_SUCCEEDING=${succeeding ? 1 : 0}\n`;
    await writeFile(script, commandScript(`${forced}${command}`, build.state, srcDir, build.exportedNames), {
      mode: 0o700,
    });
    const code = await new Promise<number | 'signal'>((resolvePromise) => {
      const spawned = launch.command(script);
      const child = spawn(spawned.file, spawned.args, {
        cwd: srcDir,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      build.child = child;
      this.recorder.save(build, variableOf(build, 'STEPLINE_EXECUTION_ARN') ?? null);
      const onData = (chunk: Buffer): void => this.recorder.log(build, phaseType, chunk.toString('utf8'));
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
    if (isFile(marker) && code === NO_DOCKER_EXIT) message += `: ${NO_DOCKER_MESSAGE}`;
    return { kind: 'failed', context: { statusCode: 'COMMAND_EXECUTION_ERROR', message } };
  }

  /** The buildspec's exported variables as the last command left them. */
  public async exported(
    build: ActiveBuild,
    names: readonly string[],
    env: NodeJS.ProcessEnv,
    launch: CommandLaunch,
  ): Promise<{ name: string; value: string }[]> {
    if (names.length === 0) return [];
    // The last command left them (commandScript); a shell reads them from the saved state only when no command ran,
    // where the commands ran (the state is the commands' own writing: in a sandbox, it is read in the sandbox).
    let text = await readOwnFile(build.state.exported);
    if (text === null) {
      const script = join(launch.scriptDir, 'export.sh');
      await writeFile(script, exportScript(build.state), { mode: 0o700 });
      const spawned = launch.command(script, names);
      text = (await run(spawned.file, spawned.args, { env, cwd: build.state.dir })).stdout;
    }
    const values = new Map<string, string>();
    for (const pair of text.split('\0')) {
      const eq = pair.indexOf('=');
      if (eq > 0) values.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return names.filter((n) => values.has(n)).map((name) => ({ name, value: values.get(name) as string }));
  }
}

/** Whether `path` is a file, without following a link (a sandboxed command may leave one). */
function isFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/** A file's text, never through a link (a sandboxed command may leave one pointing at the runtime's files). */
async function readOwnFile(path: string): Promise<string | null> {
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}

/** Stops the running command's process group: SIGTERM, then SIGKILL two seconds later. */
export function killBuild(build: ActiveBuild): void {
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

/** Kills a process group left by a runtime that died, when it is still the build's (its environment says so). */
export function killOrphan(pgid: number, buildId: string): void {
  try {
    const environ = readFileSync(`/proc/${pgid}/environ`, 'utf8');
    if (!environ.split('\0').includes(`CODEBUILD_BUILD_ID=${buildId}`)) return;
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Gone already, or not ours to kill.
  }
}
