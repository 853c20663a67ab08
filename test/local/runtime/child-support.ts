import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A runtime started in a process of its own (child-runtime.ts). */
export interface ChildRuntime {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly stateDir: string;
  /** The server's routes (its router's list, the console's included when mounted). */
  readonly routes: readonly { readonly method: string; readonly pattern: string }[];
  readonly process: ChildProcess;
  /** Everything it wrote to standard error so far. */
  stderr(): string;
  /** Whether the process still runs. */
  alive(): boolean;
  /** Resolves with its exit code and signal once it has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, and waits for the end. */
  stop(): Promise<void>;
}

const SCRIPT = join(__dirname, 'child-runtime.ts');

/**
 * Starts `child-runtime.ts` with `options` (RuntimeOptions as JSON) and `env` as its whole environment (plus PATH),
 * and resolves once it listens.
 */
export async function startChildRuntime(
  options: Record<string, unknown>,
  more: {
    readonly env?: Record<string, string>;
    readonly killAfter?: { readonly type: string; readonly state: string };
    readonly console?: boolean;
  } = {},
): Promise<ChildRuntime> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/root',
      ...more.env,
      STEPLINE_TEST_OPTIONS: JSON.stringify({
        options,
        ...(more.killAfter ? { killAfter: more.killAfter } : {}),
        ...(more.console ? { console: true } : {}),
      }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  type Ready = Pick<ChildRuntime, 'url' | 'port' | 'pid' | 'stateDir' | 'routes'>;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => resolve(JSON.parse(line) as Ready));
    void exited.then(({ code, signal }) =>
      reject(new Error(`the child runtime ended before it listened (${code ?? signal}): ${stderr}`)),
    );
  });
  return {
    ...ready,
    process: child,
    stderr: () => stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
