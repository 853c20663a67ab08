import { CodeBuildError, type CodeBuildService, toApiBuild } from '../services/codebuild';
import { CodeBuildQueries } from '../services/codebuild/queries';
import type { BuildStore } from '../store/builds';
import type { Operation } from './aws-sfn';

/**
 * The CodeBuild operations of the local server (AWS JSON 1.1): StartBuild, BatchGetBuilds, StopBuild and
 * ListProjects over the local CodeBuild, and the read operations of services/codebuild/queries.ts (projects,
 * build listings, test reports and their cases) over the build store, when the server is given it.
 */
export function codeBuildOperations(codebuild: CodeBuildService, builds?: BuildStore): Record<string, Operation> {
  const operations: Record<string, Operation> = {
    StartBuild: (input) => ({ build: toApiBuild(codebuild.startBuild(input)) }),
    BatchGetBuilds: (input) => {
      const ids = input['ids'];
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > 100 || !ids.every((id) => typeof id === 'string')) {
        throw new CodeBuildError('InvalidInputException', 'ids must be a list of 1 to 100 build ids');
      }
      const { builds: found, notFound } = codebuild.batchGet(ids as string[]);
      return { builds: found.map(toApiBuild), buildsNotFound: notFound };
    },
    StopBuild: async (input) => {
      if (typeof input['id'] !== 'string') throw new CodeBuildError('InvalidInputException', 'id is required');
      return { build: toApiBuild(await codebuild.stop(input['id'])) };
    },
    ListProjects: () => ({ projects: codebuild.projectNames().sort() }),
  };
  if (!builds) return operations;
  const queries = new CodeBuildQueries(codebuild, builds);
  return {
    ...operations,
    BatchGetProjects: (input) => queries.batchGetProjects(input),
    ListBuilds: (input) => queries.listBuilds(input),
    ListBuildsForProject: (input) => queries.listBuildsForProject(input),
    ListReports: (input) => queries.listReports(input),
    BatchGetReports: (input) => queries.batchGetReports(input),
    DescribeTestCases: (input) => queries.describeTestCases(input),
  };
}
