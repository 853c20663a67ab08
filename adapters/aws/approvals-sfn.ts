import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { CallbackOutcome, TaskCallbacks } from '../../core/approval/contracts';

/**
 * Tells the workflow's approval task the decision (`SendTaskSuccess` / `SendTaskFailure`), or that its request is
 * still answerable (`SendTaskHeartbeat`). A task that no longer
 * waits (`TaskTimedOut`, `TaskDoesNotExist`, `InvalidToken`) is `gone`; anything else is worth another try.
 * The same client works against the local runtime's Step Functions API (`SFN_ENDPOINT`).
 */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

function outcomeOf(error: unknown): CallbackOutcome {
  const name = (error as { name?: string } | null)?.name ?? '';
  if (GONE.has(name)) return { kind: 'gone' };
  return { kind: 'retry', reason: name || (error instanceof Error ? error.message : 'unknown error') };
}

export function stepFunctionsCallbacks(client: SFNClient): TaskCallbacks {
  return {
    async succeed(taskToken, output) {
      try {
        await client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
        return { kind: 'ok' };
      } catch (error) {
        return outcomeOf(error);
      }
    },
    async fail(taskToken, error, cause) {
      try {
        await client.send(new SendTaskFailureCommand({ taskToken, error, cause: JSON.stringify(cause) }));
        return { kind: 'ok' };
      } catch (failure) {
        return outcomeOf(failure);
      }
    },
    async heartbeat(taskToken) {
      try {
        await client.send(new SendTaskHeartbeatCommand({ taskToken }));
        return { kind: 'ok' };
      } catch (failure) {
        return outcomeOf(failure);
      }
    },
  };
}
