import { GitOpsRepositoryError } from '../../core/gitops/errors';

/**
 * One request of a configuration repository adapter (GitHub, GitLab, Bitbucket), under the repository's API path:
 * a transport failure or an answer outside `ok` becomes a `GitOpsRepositoryError` that names the repository, the
 * request and the status, never the token or a body.
 */
export async function sendToRepository<
  Request extends { readonly method: string; readonly path: string },
  Response extends { readonly status: number },
>(
  transport: { send(request: Request): Promise<Response> },
  repository: { readonly label: string; readonly base: string },
  request: Request,
  ok: readonly number[],
): Promise<Response> {
  let response: Response;
  try {
    response = await transport.send({ ...request, path: `${repository.base}${request.path}` });
  } catch (error) {
    throw new GitOpsRepositoryError(
      `${repository.label}: ${request.method} ${request.path} failed: ${(error as Error).message}`,
    );
  }
  if (!ok.includes(response.status)) {
    throw new GitOpsRepositoryError(
      `${repository.label}: ${request.method} ${request.path} answered ${response.status}`,
    );
  }
  return response;
}
