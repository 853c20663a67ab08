import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, sep } from 'node:path';

/**
 * The sandbox of untrusted builds (pull requests from forks), with bubblewrap (`bwrap`, Debian's `bubblewrap`; no
 * root needed where the kernel lets users make namespaces). Each command runs in namespaces of its own: user, PID
 * (no view of the runtime or of any other process; `/proc/$PPID` is the sandbox's own init), mount, network (only a
 * loopback of its own: no route to the runtime's API or anything else), IPC, UTS; with no capabilities (so it cannot
 * unmount what hides the state), a new session, and the clean environment the build was given (the bwrap process
 * itself gets only that environment, so the sandbox's init has nothing else to show).
 *
 * The file system is the machine's, read-only, except:
 * - `hidden` folders (the runtime's state folder, the work and artifacts roots) are empty: nothing of the state, the
 *   keys, the other builds, the database;
 * - `masked` folders (the user's home, `/tmp`, `/var/tmp`, `/run`) are empty too, except the PATH folders inside them
 *   (read-only), so tools installed in the home folder still run;
 * - `readOnly` folders (the build tools) are there read-only, `writable` ones (the build's source, home, images and
 *   shell state) read-write.
 *
 * Where bwrap is missing or cannot make the namespaces, `available()` says why; the caller refuses the build then
 * (docs/adr/0088).
 */

export interface SandboxOptions {
  /** The bwrap executable: a path, or a name looked up on the runtime's PATH. Default `bwrap`. */
  readonly command?: string;
  /** Folders the sandbox never sees (besides the work and artifacts roots, which the service adds). */
  readonly hidden?: readonly string[];
  /** Folders visible read-only even inside a hidden one (the build tools). */
  readonly readOnly?: readonly string[];
}

export type SandboxAvailability =
  | { readonly ok: true; readonly command: string }
  | { readonly ok: false; readonly reason: string };

/** What one sandboxed process sees of the build. */
export interface SandboxMounts {
  /** Read-write (created before the call). */
  readonly writable: readonly string[];
  /** Read-only. */
  readonly readOnly: readonly string[];
  /** The working directory inside the sandbox. */
  readonly cwd: string;
  /** The build's PATH: its folders inside masked ones stay visible, read-only. */
  readonly path: string;
}

const MASKED = ['/tmp', '/var/tmp', '/run'];

function real(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

function inside(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : `${folder}${sep}`);
}

function depth(path: string): number {
  return path.split(sep).length;
}

function onPath(command: string): string | null {
  if (command.includes(sep)) return existsSync(command) ? command : null;
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return null;
}

/** The folders of `paths` that exist, resolved (never `/`). */
function existing(paths: readonly (string | undefined)[]): string[] {
  const resolved = paths.filter((p): p is string => !!p && isAbsolute(p)).map(real);
  return [...new Set(resolved)].filter((p): p is string => p !== null && p !== sep);
}

export class Sandbox {
  private probe: Promise<SandboxAvailability> | null = null;

  public constructor(private readonly options: SandboxOptions = {}) {}

  /** Whether a sandbox can be made here (checked once, by making one). */
  public available(): Promise<SandboxAvailability> {
    this.probe ??= this.check();
    return this.probe;
  }

  private async check(): Promise<SandboxAvailability> {
    const name = this.options.command ?? 'bwrap';
    const command = onPath(name);
    if (!command) {
      return {
        ok: false,
        reason: `bubblewrap (${name}) is not installed; install it with: apt-get install -y --no-install-recommends bubblewrap`,
      };
    }
    const args = this.args({ writable: [], readOnly: [], cwd: '/', path: '/usr/bin:/bin' }, ['true']);
    const outcome = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(command, args, { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
      });
      child.on('error', (error) => resolve({ code: null, stderr: error.message }));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    if (outcome.code === 0) return { ok: true, command };
    const said = outcome.stderr.trim().split('\n').at(-1) ?? `exit status ${outcome.code}`;
    return {
      ok: false,
      reason:
        `${command} cannot make a sandbox on this machine (${said}): user namespaces are turned off or restricted ` +
        '(sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns)',
    };
  }

  /** The bwrap arguments that run `command` (argv) in the sandbox. */
  public args(mounts: SandboxMounts, command: readonly string[]): string[] {
    const args = [
      '--die-with-parent',
      '--unshare-all',
      '--new-session',
      '--cap-drop',
      'ALL',
      '--hostname',
      'stepline-build',
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
    ];
    // Resolved at each call: the state folder's subfolders appear as builds run.
    const hidden = existing(this.options.hidden ?? []);
    const masked = existing([...MASKED, homedir(), process.env['HOME']]);
    const empty = [...masked, ...hidden].sort((a, b) => depth(a) - depth(b));
    for (const folder of empty) args.push('--tmpfs', folder);
    const pathFolders = mounts.path
      .split(delimiter)
      .map((p) => (isAbsolute(p) ? real(p) : null))
      .filter((p): p is string => p !== null)
      .filter((p) => masked.some((m) => inside(p, m)) && !hidden.some((h) => inside(p, h)));
    const shown = existing([...(this.options.readOnly ?? []), ...mounts.readOnly, ...pathFolders]).sort(
      (a, b) => depth(a) - depth(b),
    );
    for (const folder of shown) args.push('--ro-bind', folder, folder);
    const writable = existing(mounts.writable).sort((a, b) => depth(a) - depth(b));
    for (const folder of writable) args.push('--bind', folder, folder);
    args.push('--chdir', real(mounts.cwd) ?? mounts.cwd, '--', ...command);
    return args;
  }
}
