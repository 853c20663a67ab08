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

/**
 * How much older than the call a start date must be for the answer to be the original execution's: Step Functions
 * answers a StartExecution with the name and input of an *open* execution with success (the calls are idempotent,
 * StartExecution's API reference), and the answer is that execution's own (its ARN and start date). A redelivery
 * comes seconds to days after the first delivery; clock skew between Lambda and Step Functions is well under this.
 */
export const REDELIVERY_START_DATE_SLACK_MS = 5_000;

export class StepFunctionsWorkflowStarter implements WorkflowStarter {
  public constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
    private readonly now: () => number = Date.now,
  ) {}

  public async start({ name, input, inputJson }: StartRequest): Promise<StartResult> {
    const request = { stateMachineArn: this.stateMachineArn, name, input: inputJson ?? JSON.stringify(input) };
    const calledAt = this.now();
    try {
      const output = await this.client.send(new StartExecutionCommand(request));
      const executionArn = output.executionArn ?? executionArnOf(this.stateMachineArn, name);
      // A redelivery while the run is open: the answer is the running execution's, started before this call.
      const started = output.startDate instanceof Date ? output.startDate.getTime() : Number.NaN;
      if (started < calledAt - REDELIVERY_START_DATE_SLACK_MS) return { outcome: 'duplicate', executionArn };
      return { outcome: 'started', executionArn };
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
