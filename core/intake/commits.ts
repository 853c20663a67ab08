import type { CommitResolver } from './ports';
import type { PipelineRequest } from './types';
import { ignore, proceed, type Verdict } from './verdict';

/**
 * A run starts at a full commit SHA. Bitbucket's pull request events carry the source commit abbreviated (12 hex
 * digits, `pullrequest.source.commit.hash`), and everything downstream needs it whole: the builds (CodeBuild's
 * `refs/heads/<branch>^{<sha>}` takes a full SHA only), the image tag, and the commit statuses (Bitbucket's status
 * API and the status function take full hashes only). This step asks the host for the full hash before the run
 * starts (docs/adr/0090). Pure but for the port.
 */

const FULL_SHA = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

/** Whether the request's commit is abbreviated, and so must be resolved before its run starts. */
export function abbreviatedCommit(request: PipelineRequest): boolean {
  return !FULL_SHA.test(request.commit.sha);
}

/** Where the request's commit lives: a pull request's source repository (a fork's, maybe), else the repository. */
export function commitRepository(request: PipelineRequest): string {
  const head = request.pullRequest?.head.repository;
  return head?.includes('/') ? head : request.repository.fullName;
}

/** The request with its commit (and its pull request's head) at the full SHA. */
export function withFullSha(request: PipelineRequest, sha: string): PipelineRequest {
  const pr = request.pullRequest;
  return {
    ...request,
    commit: { ...request.commit, sha },
    pullRequest: pr && pr.head.sha === request.commit.sha ? { ...pr, head: { ...pr.head, sha } } : pr,
  };
}

/**
 * The request at its full SHA: as it is when it has one, resolved through the port when it has an abbreviated
 * one, or ignored when the host does not know the commit (a force-push took it away before the delivery came).
 * A resolver that cannot reach the host throws: the delivery is then answered 503, for the host to send it again.
 */
export async function completeCommit(
  request: PipelineRequest,
  resolver: CommitResolver,
): Promise<Verdict<PipelineRequest>> {
  if (!abbreviatedCommit(request)) return proceed(request);
  const repository = commitRepository(request);
  const sha = await resolver.resolve({ provider: request.provider, repository, commit: request.commit.sha, request });
  if (sha === null || !FULL_SHA.test(sha) || !sha.startsWith(request.commit.sha)) {
    return ignore(
      'event_not_handled',
      `commit ${request.commit.sha} is not in ${repository} as far as ${request.provider} says: nothing to build`,
    );
  }
  return proceed(withFullSha(request, sha));
}
