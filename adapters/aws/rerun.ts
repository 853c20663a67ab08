import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { IntakeError, WorkflowUnavailableError } from '../../core/intake/errors';
import type { RerunStarter, StartResult, WorkflowStarter } from '../../core/intake/ports';
import type { RerunRequest } from '../../core/intake/rerun';
import type { ExecutionInput } from '../../core/intake/types';
import { describeAwsError, isAwsError } from './errors';
import { StepFunctionsWorkflowStarter } from './workflow';

/**
 * The intake's `RerunStarter` on Step Functions (GitHub's "Re-run" on a check run, docs/adr/0091): the input of the
 * execution to run again, read with `DescribeExecution`, started again under the re-run's name through the
 * workflow starter (`StartExecution`; `ExecutionAlreadyExists` answers `duplicate`, so a redelivery of one press
 * starts nothing twice). The input is sent as Step Functions gave it: the same commit, the same route.
 *
 * Refused before any call: an execution of another state machine (a check run of another installation whose
 * deliveries reach this webhook). Refused after `DescribeExecution`: an execution Step Functions no longer keeps
 * (closed executions are kept 90 days), and one whose commit is not the check run's. Every refusal and failure
 * throws; the webhook then answers 503 with "press Re-run again later" (core/intake/receive.ts).
 *
 * Needs `states:DescribeExecution` on the pipeline's executions and `states:StartExecution` on the pipeline.
 */

/** The ARN of the state machine an execution ARN belongs to (Step Functions' own scheme), or null. */
export function stateMachineArnOf(executionArn: string): string | null {
  const parts = executionArn.split(':');
  if (parts.length !== 8 || parts[5] !== 'execution') return null;
  return [...parts.slice(0, 5), 'stateMachine', parts[6]].join(':');
}

/** The commit SHA of a pipeline execution's input, without validating the rest (the webhook's bundle has no zod). */
function commitOf(input: unknown): string | null {
  const sha = (input as { request?: { commit?: { sha?: unknown } } } | null)?.request?.commit?.sha;
  return typeof sha === 'string' ? sha : null;
}

export class StepFunctionsRerunStarter implements RerunStarter {
  readonly #client: SFNClient;
  readonly #stateMachineArn: string;
  readonly #starter: WorkflowStarter;

  /**
   * `starter` starts the re-run; by default StartExecution on `stateMachineArn` with `client`. The local runtime
   * passes its own (local/runtime/starter.ts), which also answers a redelivery while the re-run still runs.
   */
  public constructor(client: SFNClient, stateMachineArn: string, starter?: WorkflowStarter) {
    this.#client = client;
    this.#stateMachineArn = stateMachineArn;
    this.#starter = starter ?? new StepFunctionsWorkflowStarter(client, stateMachineArn);
  }

  public async rerun(request: RerunRequest, name: string): Promise<StartResult> {
    const { executionArn } = request;
    if (stateMachineArnOf(executionArn) !== this.#stateMachineArn) {
      throw new IntakeError(`execution ${executionArn} is not one of ${this.#stateMachineArn}: not re-run here`);
    }
    const inputJson = await this.#inputOf(executionArn);
    let input: unknown;
    try {
      input = JSON.parse(inputJson);
    } catch (error) {
      throw new IntakeError(`the input of ${executionArn} is not JSON`, { cause: error });
    }
    const sha = commitOf(input);
    if (sha !== request.sha) {
      throw new IntakeError(
        `execution ${executionArn} ran commit ${sha ?? '(none)'}, not the check run's ${request.sha}: not re-run`,
      );
    }
    return this.#starter.start({ name, input: input as ExecutionInput, inputJson });
  }

  async #inputOf(executionArn: string): Promise<string> {
    try {
      const out = await this.#client.send(new DescribeExecutionCommand({ executionArn }));
      if (out.input === undefined) throw new IntakeError(`execution ${executionArn} has no input to run again`);
      return out.input;
    } catch (error) {
      if (error instanceof IntakeError) throw error;
      if (isAwsError(error, 'ExecutionDoesNotExist')) {
        throw new IntakeError(
          `execution ${executionArn} does not exist (Step Functions keeps closed executions 90 days): nothing to re-run`,
          { cause: error },
        );
      }
      throw new WorkflowUnavailableError(`DescribeExecution of ${executionArn} failed: ${describeAwsError(error)}`, {
        cause: error,
      });
    }
  }
}
