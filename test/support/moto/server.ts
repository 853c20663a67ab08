import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * `moto_server` (moto, from the machine's Python environment) as a child process for one test file: started on a
 * free port of 127.0.0.1, reset between tests, and stopped with its whole process group at the end, so that no
 * server outlives the tests that started it. See README.md beside this file.
 */

/** The moto release the stand-ins were written and checked against. */
export const MOTO_VERSION = '5.2.1';

const INSTALL_HINT =
  `the AWS stand-in tests need moto ${MOTO_VERSION} with its server in the Python environment on the PATH ` +
  `(\`python3 -m pip install 'moto[server]==${MOTO_VERSION}'\`); the CI and development machines come with it ` +
  '(see test/support/moto/README.md)';

/** moto is missing, the wrong version, or its server did not start. */
export class MotoUnavailable extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MotoUnavailable';
  }
}

export interface MotoServer {
  /** `http://127.0.0.1:<port>`: the endpoint every SDK client of the tests is given. */
  readonly endpoint: string;
  readonly port: number;
  /** The server's process id, which is also its process group's. */
  readonly pid: number;
  /** Milliseconds from spawning the process to its first answer (the version checked meanwhile). */
  readonly startMs: number;
  /** Forgets every resource and item of every service (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  /** Stops the server and its process group; resolves once it has exited. Safe to call twice. */
  stop(): Promise<void>;
}

const run = promisify(execFile);

/** The moto version of the Python environment on the PATH; throws MotoUnavailable naming what is missing. */
export async function checkMotoVersion(expected: string = MOTO_VERSION): Promise<string> {
  let version: string;
  try {
    const { stdout } = await run('python3', ['-c', 'import moto; print(moto.__version__)'], { timeout: 20_000 });
    version = stdout.trim();
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n').slice(-2).join(' ').trim() : String(error);
    throw new MotoUnavailable(`cannot import moto with python3 (${detail}): ${INSTALL_HINT}`, { cause: error });
  }
  if (version !== expected) {
    throw new MotoUnavailable(`python3 has moto ${version}, not ${expected}: ${INSTALL_HINT}`);
  }
  return version;
}

/** Servers started by this process and not yet stopped: killed on exit if a test run ends without teardown. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group has already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
  });
}

/**
 * Starts `moto_server -H 127.0.0.1 -p 0` in its own process group (the port is the free one the server binds and
 * prints) and waits until it answers, while checking the moto version beside it (both start a Python interpreter
 * that imports moto: about a second each). Throws MotoUnavailable, the version's reason first, when it cannot.
 */
export async function startMoto(options: { readonly timeoutMs?: number } = {}): Promise<MotoServer> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const started = performance.now();
  const version = checkMotoVersion().then(
    () => null,
    (error: unknown) => error,
  );
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  running.add(child);
  installExitHook();
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });

  let port: number;
  try {
    port = await announcedPort(child, timeoutMs);
    await waitUntilAnswering(`http://127.0.0.1:${port}`, timeoutMs);
    const wrongVersion = await version;
    if (wrongVersion) throw wrongVersion;
  } catch (error) {
    killGroup(child, 'SIGKILL');
    await exited;
    throw (await version) ?? error;
  }
  const startMs = performance.now() - started;
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    port,
    pid: child.pid!,
    startMs,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset answered ${response.status}`);
    },
    async stop() {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The port from the server's " * Running on http://127.0.0.1:<port>" line (werkzeug prints it once bound). */
function announcedPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new MotoUnavailable(`moto_server announced no port within ${timeoutMs} ms: ${output.trim()}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        cleanup();
        resolve(Number(match[1]));
      }
    };
    const onExit = (code: number | null) =>
      fail(new MotoUnavailable(`moto_server exited (code ${code}) before serving: ${output.trim()}; ${INSTALL_HINT}`));
    const onError = (error: Error) =>
      fail(new MotoUnavailable(`cannot run moto_server (${error.message}): ${INSTALL_HINT}`, { cause: error }));
    function cleanup() {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining the pipes so that the server never blocks on a full one.
      child.stdout?.resume();
      child.stderr?.resume();
    }
    function fail(error: Error) {
      cleanup();
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

async function waitUntilAnswering(endpoint: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) throw new MotoUnavailable(`moto_server at ${endpoint} did not answer`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
