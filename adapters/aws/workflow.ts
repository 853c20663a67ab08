import { SFNClient, type SFNClientConfig, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { WorkflowUnavailableError } from '../../core/intake/errors';
import type { StartRequest, StartResult, WorkflowStarter } from '../../core/intake/ports';
import { describeAwsError, EXECUTION_ALREADY_EXISTS, isAwsError } from './errors';

/**
 * The workflow starter on Step Functions, through the SDK's `SFNClient`. `ExecutionAlreadyExists` (a redelivery of
 * a delivery whose execution exists, closed, or running with another input) is a duplicate; any other failure,
 * once the SDK's own retries are spent, is a `WorkflowUnavailableError`, and the caller parks the delivery.
 *
 * A StartExecution with the name and input of a *running* execution succeeds and returns that execution's ARN
 * (Step Functions' idempotency): the answer is then `started` with the same ARN, and nothing new runs.
 */

/**
 * What the intake's clients (Step Functions, Secrets Manager, SQS) share: 3 attempts, the first included, with the
 * SDK's standard retry mode; 2 s per attempt and 1 s to connect, because a Git host waits about 10 s for an answer.
 * Region, credentials and endpoint come from the environment as the SDK reads them (`AWS_REGION`, Lambda's
 * credentials, `AWS_ENDPOINT_URL_SFN` / `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_SQS` or
 * `AWS_ENDPOINT_URL` for a stand-in).
 */
export const INTAKE_CLIENT_DEFAULTS = {
  maxAttempts: 3,
  requestHandler: { requestTimeout: 2000, connectionTimeout: 1000 },
} as const;

/** The Step Functions client of the webhook and replay functions; `config` overrides the defaults (tests, bench). */
export function createSfnClient(config: SFNClientConfig = {}): SFNClient {
  return new SFNClient({ ...INTAKE_CLIENT_DEFAULTS, ...config });
}

/** The ARN of an execution, from its state machine's ARN and its name (Step Functions' own scheme). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

export class StepFunctionsWorkflowStarter implements WorkflowStarter {
  public constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  public async start({ name, input, inputJson }: StartRequest): Promise<StartResult> {
    const request = { stateMachineArn: this.stateMachineArn, name, input: inputJson ?? JSON.stringify(input) };
    try {
      const output = await this.client.send(new StartExecutionCommand(request));
      return { outcome: 'started', executionArn: output.executionArn ?? executionArnOf(this.stateMachineArn, name) };
    } catch (error) {
      if (isAwsError(error, EXECUTION_ALREADY_EXISTS)) {
        return { outcome: 'duplicate', executionArn: executionArnOf(this.stateMachineArn, name) };
      }
      throw new WorkflowUnavailableError(`StartExecution of ${name} failed: ${describeAwsError(error)}`, {
        cause: error,
      });
    }
  }
}
