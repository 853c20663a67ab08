import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
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
    this.recorder.log(build, phaseType, `[Container] ${isoLog(Date.now())} Running command ${command}\n`);
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
    if (existsSync(marker) && code === NO_DOCKER_EXIT) message += `: ${NO_DOCKER_MESSAGE}`;
    return { kind: 'failed', context: { statusCode: 'COMMAND_EXECUTION_ERROR', message } };
  }

  /** The buildspec's exported variables as the last command left them. */
  public async exported(
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
