import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { IntakeError, WorkflowUnavailableError } from '../../core/intake/errors';
import type { RerunStarter, StartResult, WorkflowStarter } from '../../core/intake/ports';
import { environmentToRerun, type HistoryEventLike, prebuiltOf } from '../../core/intake/prebuilt';
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
 * "Re-run" on the deploy check run of the environment the run failed in (`stepline/deploy/production`) starts from
 * that environment with the image the run built, by digest (ADR 0106): the image is read from the execution's
 * history (GetExecutionHistory, the assignedVariables of its state exits); no build, no tests. Where the history
 * names no image, the whole input starts again.
 *
 * Needs `states:DescribeExecution` and `states:GetExecutionHistory` on the pipeline's executions and
 * `states:StartExecution` on the pipeline.
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
    const described = await this.#describe(executionArn);
    const inputJson = described.input as string;
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
    const failed = environmentToRerun(request.checkName, described.status, described.cause);
    const fromFailed = failed ? await this.#fromFailed(executionArn, input as ExecutionInput, failed) : null;
    if (fromFailed) return this.#starter.start({ name, input: fromFailed, inputJson: JSON.stringify(fromFailed) });
    return this.#starter.start({ name, input: input as ExecutionInput, inputJson });
  }

  /** The input that promotes the image `executionArn` built from `environment` on; null when its history has none. */
  async #fromFailed(executionArn: string, input: ExecutionInput, environment: string): Promise<ExecutionInput | null> {
    const environments = input.route?.environments ?? [];
    const index = environments.findIndex((e) => e.name === environment);
    if (index < 0) return null;
    const prebuilt = prebuiltOf(executionArn, await this.#history(executionArn), input.prebuilt?.from);
    if (!prebuilt) return null;
    return { ...input, route: { ...input.route, environments: environments.slice(index) }, prebuilt };
  }

  /** Every event of an execution, oldest first (at most 25,000, in pages of 1,000). */
  async #history(executionArn: string): Promise<HistoryEventLike[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const page = await this.#client.send(
          new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, includeExecutionData: true, nextToken }),
        );
        events.push(...(page.events ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
    } catch (error) {
      throw new WorkflowUnavailableError(`GetExecutionHistory of ${executionArn} failed: ${describeAwsError(error)}`, {
        cause: error,
      });
    }
    return events.map((e) => ({ ...e, type: String(e.type) }));
  }

  async #describe(executionArn: string): Promise<DescribeExecutionCommandOutput> {
    try {
      const out = await this.#client.send(new DescribeExecutionCommand({ executionArn }));
      if (out.input === undefined) throw new IntakeError(`execution ${executionArn} has no input to run again`);
      return out;
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
