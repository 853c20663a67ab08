import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * The state folder's protection (docs/adr/0089): one runtime at a time, and nobody else reads it.
 *
 * - The lock is `runtime.pid`, made by an exclusive create (`O_CREAT | O_EXCL`): two runtimes started at once cannot
 *   both take it. It names the holder's pid and its start time (`/proc/<pid>/stat`, field 22); a file whose pid is
 *   not running, or is running but started at another time (a pid reused by an unrelated process, after a crash or
 *   a reboot), is stale and taken over. A file of the older form (a pid alone) counts as held only by a process that
 *   started before the file was written.
 * - The folder is 0700, its files 0600, its folders 0700: the SQLite file holds the task-token secret and the
 *   simulated cluster's CA key, the folder the webhook secret, the approval key and the AWS key pair.
 */

const LOCK = 'runtime.pid';

/** A process's start time in clock ticks since boot (Linux), or null where /proc does not say. */
export function processStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/** When the machine booted, in ms since the epoch (Linux), or null. */
function bootTimeMs(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('btime '));
    return line ? Number(line.slice(6)) * 1000 : null;
  } catch {
    return null;
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock file's holder is a live runtime (another process than this one). */
function held(file: string): { pid: number } | null {
  let text: string;
  let written: number;
  try {
    text = readFileSync(file, 'utf8').trim();
    written = statSync(file).mtimeMs;
  } catch {
    return null;
  }
  const [pidText, startText] = text.split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !running(pid)) return null;
  const start = processStartTicks(pid);
  if (start === null) return { pid };
  if (startText !== undefined) return Number(startText) === start ? { pid } : null;
  // The older form: only a process that was there when the file was written can be its writer.
  const boot = bootTimeMs();
  if (boot === null) return { pid };
  return boot + start * 10 <= written + 1000 ? { pid } : null;
}

/** Takes the state folder's lock; answers the function that releases it. Throws while another runtime holds it. */
export function lockStateFolder(stateDir: string): () => void {
  const file = join(stateDir, LOCK);
  const mine = `${process.pid} ${processStartTicks(process.pid) ?? ''}`.trim();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, `${mine}\n`);
      } finally {
        closeSync(fd);
      }
      return () => {
        try {
          if (readFileSync(file, 'utf8').trim() === mine) rmSync(file);
        } catch {
          // Gone already.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = held(file);
    if (holder) {
      throw new Error(
        `another Stepline runtime (pid ${holder.pid}) uses ${stateDir}: stop it, or give another state folder`,
      );
    }
    rmSync(file, { force: true });
  }
  throw new Error(`could not take the lock ${file}: another runtime is starting on ${stateDir} at the same time`);
}

/** Creates the state folder (0700), or makes an existing one 0700. */
export function makeStateFolder(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(stateDir, 0o700);
}

/** Creates `file` empty with mode 0600 where it does not exist yet (before SQLite opens it: SQLite keeps the mode). */
export function createPrivateFile(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

/** Makes every file directly in the state folder 0600 and every folder 0700 (what an older runtime left). */
export function tightenStateFolder(stateDir: string): void {
  for (const entry of readdirSync(stateDir, { withFileTypes: true })) {
    const path = join(stateDir, entry.name);
    try {
      if (entry.isDirectory()) chmodSync(path, 0o700);
      else if (entry.isFile()) chmodSync(path, 0o600);
    } catch {
      // Gone meanwhile.
    }
  }
}
