import { type SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';

/** Stops a pipeline execution that a newer run superseded. */
export interface RunStopper {
  /** Resolves whether the execution was stopped (false: it had ended or does not exist). */
  stop(executionArn: string, error: string, cause: string): Promise<boolean>;
}

const ALREADY_GONE = new Set(['ExecutionDoesNotExist', 'ExecutionNotRunning']);

/** StopExecution through the Step Functions API (AWS, or the local runtime's through an endpoint override). */
export function stepFunctionsStopper(client: SFNClient): RunStopper {
  return {
    async stop(executionArn, error, cause) {
      try {
        await client.send(new StopExecutionCommand({ executionArn, error, cause }));
        return true;
      } catch (failure) {
        if (ALREADY_GONE.has((failure as { name?: string }).name ?? '')) return false;
        throw failure;
      }
    },
  };
}
