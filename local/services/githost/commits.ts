import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CommitQuery, CommitResolver } from '../../../core/intake/ports';

const run = promisify(execFile);

/**
 * The local runtime's `CommitResolver`: a repository on this machine (a clone URL that is a path or a `file://`
 * URL, as the local runtime's builds clone) answers for itself with `git rev-parse`; any other goes to `host`
 * (the host's commit API, adapters/githost/commits.ts). The local status sink keeps no commits, so without a host
 * a remote repository's abbreviated commit cannot be resolved here.
 */

/** The folder of a clone URL on this machine, or null for a remote one. */
export function localRepositoryOf(cloneUrl: string): string | null {
  let path: string | null = null;
  if (cloneUrl.startsWith('file://')) path = fileURLToPath(cloneUrl);
  else if (isAbsolute(cloneUrl)) path = cloneUrl;
  if (path === null) return null;
  if (existsSync(path)) return path;
  // Bitbucket's clone URL is the repository's page and `.git`: the folder may be named without it.
  const bare = path.replace(/\.git\/?$/, '');
  return bare !== path && existsSync(bare) ? bare : null;
}

export function localCommitResolver(host: CommitResolver | null): CommitResolver {
  return {
    async resolve(query: CommitQuery): Promise<string | null> {
      const folder = localRepositoryOf(query.request.repository.cloneUrl);
      if (folder === null) {
        if (!host) throw new Error(`no way to resolve commit ${query.commit} of ${query.repository} on this machine`);
        return host.resolve(query);
      }
      if (!/^[0-9a-f]{4,64}$/.test(query.commit)) return null;
      try {
        const out = await run('git', ['-C', folder, 'rev-parse', '--verify', '--quiet', `${query.commit}^{commit}`], {
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
        });
        return out.stdout.trim() || null;
      } catch {
        return null;
      }
    },
  };
}
