import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type CommitLog, type CommitRange, type CommitTime, MAX_COMMITS } from '../../core/insight/contracts';

const run = promisify(execFile);

/**
 * Delivery insight's `CommitLog` for the local runtime: a repository on this machine (a clone URL that is a path or
 * a `file://` URL, as the local builds clone) answers with `git log --format=%H %cI <base>..<head>`, the committer
 * dates; any other goes to `host` (the Git host's compare API), or is "cannot tell" without one. A base git does not
 * know (history rewritten since) leaves the deployed commit alone.
 */

function folderOf(cloneUrl: string): string | null {
  let path: string | null = null;
  if (cloneUrl.startsWith('file://')) path = fileURLToPath(cloneUrl);
  else if (isAbsolute(cloneUrl)) path = cloneUrl;
  if (path === null) return null;
  if (existsSync(path)) return path;
  const bare = path.replace(/\.git\/?$/, '');
  return bare !== path && existsSync(bare) ? bare : null;
}

const HEX = /^[0-9a-f]{7,64}$/;

async function log(folder: string, range: string[]): Promise<CommitTime[]> {
  const { stdout } = await run(
    'git',
    ['-C', folder, 'log', `--max-count=${MAX_COMMITS}`, '--format=%H %cI', ...range, '--'],
    { env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LANG: 'C' } },
  );
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [sha, time] = line.split(' ');
      return { sha: sha as string, time: new Date(Date.parse(time as string)).toISOString() };
    });
}

export function localCommitLog(host: CommitLog | null): CommitLog {
  return {
    async between(range: CommitRange): Promise<readonly CommitTime[] | null> {
      const folder = folderOf(range.cloneUrl);
      if (folder === null) return host ? host.between(range) : null;
      if (!HEX.test(range.head) || (range.base !== null && !HEX.test(range.base))) return null;
      try {
        if (range.base !== null) {
          try {
            return await log(folder, [`${range.base}..${range.head}`]);
          } catch {
            // The base is not in this repository any more: the deployed commit alone.
          }
        }
        return await log(folder, ['-1', range.head]);
      } catch {
        return null;
      }
    },
  };
}
