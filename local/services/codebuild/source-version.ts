import { BuildInputError } from './errors';

/**
 * StartBuild's `sourceVersion` for a Git source, in the forms CodeBuild documents ("Source version sample with
 * AWS CodeBuild", and StartBuild's `sourceVersion`):
 *
 * - a commit ID, a branch name or a tag name;
 * - GitHub's pull request as `pr/<number>` (its head, `refs/pull/<number>/head`);
 * - a reference and a commit ID, `refs/heads/<branch>^{<sha>}`, `refs/tags/<tag>^{<sha>}` or
 *   `refs/pull/<number>/head^{<sha>}`: CodeBuild fetches that reference only ("CodeBuild does not need to download
 *   the entire repository to find the commit") and builds exactly the commit.
 */
export type SourceVersion =
  /** Check out `name`, fetching it by name when the clone does not have it (a commit, a branch, a tag). */
  | { readonly kind: 'name'; readonly name: string }
  /** Fetch `ref`, then check out `commit`, which the ref's history must hold (`FETCH_HEAD` for the ref's head). */
  | { readonly kind: 'ref'; readonly ref: string; readonly commit: string };

const REF_AND_COMMIT = /^(refs\/[^\s^~:?*[\\]+)\^\{([^}]*)\}$/;
const PULL_REQUEST = /^pr\/(\d+)$/;
const FULL_SHA = /^[0-9a-f]{40}$/;

/** Reads a sourceVersion; refuses a reference-and-commit whose commit is not a full SHA, as CodeBuild needs it. */
export function parseSourceVersion(version: string): SourceVersion {
  const pullRequest = PULL_REQUEST.exec(version);
  if (pullRequest) return { kind: 'ref', ref: `refs/pull/${pullRequest[1]}/head`, commit: 'FETCH_HEAD' };
  const refAndCommit = REF_AND_COMMIT.exec(version);
  if (refAndCommit) {
    const [, ref, commit] = refAndCommit as unknown as [string, string, string];
    if (!FULL_SHA.test(commit)) {
      throw new BuildInputError(
        `sourceVersion ${version}: the commit after the reference must be a full commit SHA (40 hex digits), as in refs/heads/main^{<sha>}`,
      );
    }
    return { kind: 'ref', ref, commit };
  }
  if (version.includes('^{')) {
    throw new BuildInputError(
      `sourceVersion ${version}: a reference with a commit is refs/heads/<branch>^{<sha>}, refs/tags/<tag>^{<sha>} or refs/pull/<number>/head^{<sha>}`,
    );
  }
  return { kind: 'name', name: version };
}
