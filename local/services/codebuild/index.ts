import { randomUUID } from 'node:crypto';
import { TaskFailure, type TaskHandler } from '../../engine';
import { CodeBuildError } from './errors';
import type { CodeBuildService, StartBuildInput } from './service';
import { fromStatesRequest, toStatesBuild } from './shapes';

export { type Buildspec, PHASE_TYPE, PHASES, parseBuildspec } from './buildspec';
export { BuildInputError, BuildResourceNotFoundError, BuildspecError, CodeBuildError } from './errors';
export { parseJUnit, type TestCase, type TestReport } from './reports';
export { Sandbox, type SandboxAvailability, type SandboxOptions } from './sandbox';
export {
  CodeBuildService,
  type CodeBuildServiceOptions,
  type ProjectConfig,
  type StartBuildContext,
  type StartBuildInput,
} from './service';
export { type BuildDocument, type BuildPhase, toApiBuild, toStatesBuild } from './shapes';
export { buildahAvailable, dockerEngineAvailable, installBuildTools, NO_DOCKER_MESSAGE } from './tools';

function metadata(): Record<string, unknown> {
  const requestId = randomUUID();
  return {
    SdkHttpMetadata: {
      AllHttpHeaders: { 'Content-Type': ['application/x-amz-json-1.1'], 'x-amzn-RequestId': [requestId] },
      HttpHeaders: { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': requestId },
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
  };
}

/**
 * The Task handler of `arn:aws:states:::codebuild:startBuild` and `startBuild.sync`, over the local CodeBuild:
 * - the Arguments are StartBuild's request in Step Functions' PascalCase (`ProjectName`, `SourceVersion`,
 *   `EnvironmentVariablesOverride: [{Name, Type, Value}]`, `BuildspecOverride`, ...);
 * - `.sync` reports the started build (TaskSubmitted), waits for its end and returns `{ Build: {...} }` in
 *   PascalCase; a build that does not succeed fails the task with `States.TaskFailed` and, as cause, the JSON of
 *   `{ Build: {...} }`, so a Catch can read the phases; a task that times out or is stopped stops the build;
 * - a request CodeBuild refuses fails the task with `CodeBuild.<code>` (e.g. `CodeBuild.ResourceNotFoundException`).
 */
export function codeBuildTaskHandler(service: CodeBuildService): TaskHandler {
  return async function startBuildTask(request) {
    const input = fromStatesRequest(request.input ?? {}) as StartBuildInput;
    let build: ReturnType<CodeBuildService['startBuild']>;
    try {
      build = service.startBuild(input, {
        initiator: `states/${request.execution.name}`,
        executionArn: request.execution.executionArn,
      });
    } catch (error) {
      if (error instanceof CodeBuildError) {
        throw new TaskFailure(
          `CodeBuild.${error.code}`,
          `${error.message} (Service: AWSCodeBuild; Status Code: 400; Error Code: ${error.code})`,
        );
      }
      throw error;
    }
    const started = { Build: toStatesBuild(build), ...metadata() };
    if (request.pattern !== 'RUN_JOB') return started;
    request.submitted(started);
    const onAbort = (): void => {
      void service.stop(build.id).catch(() => {});
    };
    if (request.signal.aborted) onAbort();
    else request.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const final = await service.wait(build.id);
      const result = { Build: toStatesBuild(final) };
      if (final.buildStatus !== 'SUCCEEDED') throw new TaskFailure('States.TaskFailed', JSON.stringify(result));
      return result;
    } finally {
      request.signal.removeEventListener('abort', onAbort);
    }
  };
}
