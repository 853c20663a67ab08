import { SFNClient, type SFNClientConfig, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { WorkflowUnavailableError } from '../../core/intake/errors';
import type { StartRequest, StartResult, WorkflowStarter } from '../../core/intake/ports';

/**
 * The workflow starter on Step Functions. `ExecutionAlreadyExists` (a redelivery of a delivery whose execution
 * exists, running or closed) is a duplicate; any other failure, once the SDK's own retries are spent, is a
 * `WorkflowUnavailableError`, and the caller parks the delivery.
 *
 * A StartExecution with the name and input of a *running* execution succeeds and returns that execution's ARN
 * (Step Functions' idempotency): the answer is then `started` with the same ARN, and nothing new runs.
 */

export interface SfnClientOptions {
  readonly region?: string | null;
  /** The local runtime's Step Functions API. */
  readonly endpoint?: string | null;
  /** Attempts per call, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Per-attempt timeout in milliseconds. Default 2,000: a Git host waits about 10 s for an answer. */
  readonly requestTimeoutMs?: number;
  /** Static credentials (the local runtime's endpoint); default: the SDK's provider chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export function createSfnClient(options: SfnClientOptions = {}): SFNClient {
  const config: SFNClientConfig = {
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 2000, connectionTimeout: 1000 },
  };
  if (options.region) config.region = options.region;
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.credentials) config.credentials = { ...options.credentials };
  return new SFNClient(config);
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
    try {
      const output = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: inputJson ?? JSON.stringify(input),
        }),
      );
      return { outcome: 'started', executionArn: output.executionArn ?? executionArnOf(this.stateMachineArn, name) };
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionAlreadyExists') {
        return { outcome: 'duplicate', executionArn: executionArnOf(this.stateMachineArn, name) };
      }
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new WorkflowUnavailableError(`StartExecution of ${name} failed: ${reason}`, { cause: error });
    }
  }
}
