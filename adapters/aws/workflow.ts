import type { SFNClient, SFNClientConfig } from '@aws-sdk/client-sfn';
import { WorkflowUnavailableError } from '../../core/intake/errors';
import type { StartRequest, StartResult, WorkflowStarter } from '../../core/intake/ports';
import { AwsJsonClient, type AwsJsonClientOptions, STEP_FUNCTIONS } from './aws-json';

/**
 * The workflow starter on Step Functions. `ExecutionAlreadyExists` (a redelivery of a delivery whose execution
 * exists, running or closed) is a duplicate; any other failure, once the client's own retries are spent, is a
 * `WorkflowUnavailableError`, and the caller parks the delivery.
 *
 * A StartExecution with the name and input of a *running* execution succeeds and returns that execution's ARN
 * (Step Functions' idempotency): the answer is then `started` with the same ARN, and nothing new runs.
 *
 * The webhook and replay functions start executions through the small JSON-protocol client (aws-json.ts), which
 * loads in a few milliseconds where the SDK's SFNClient takes about 100 (docs/adr/0046). The starter still takes an
 * SDK `SFNClient` too, for callers that hold one for other calls (the local runtime); the SDK is then required
 * when the starter first uses it, never by this module's import.
 */

export interface SfnClientOptions {
  readonly region?: string | null;
  /** The local runtime's Step Functions API. */
  readonly endpoint?: string | null;
  /** Attempts per call, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Per-attempt timeout in milliseconds. Default 2,000: a Git host waits about 10 s for an answer. */
  readonly requestTimeoutMs?: number;
  /** Static credentials (the local runtime's endpoint); default: the environment's, else the SDK's provider chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** The Step Functions API through the JSON-protocol client: what the webhook and replay functions use. */
export function createStepFunctionsClient(
  options: SfnClientOptions & Pick<AwsJsonClientOptions, 'transport' | 'sleep' | 'random'> = {},
): AwsJsonClient {
  return new AwsJsonClient({
    service: STEP_FUNCTIONS,
    region: options.region ?? null,
    endpoint: options.endpoint ?? null,
    maxAttempts: options.maxAttempts ?? 3,
    requestTimeoutMs: options.requestTimeoutMs ?? 2000,
    connectionTimeoutMs: 1000,
    ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
    ...(options.transport ? { transport: options.transport } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
}

function sdk(): typeof import('@aws-sdk/client-sfn') {
  return require('@aws-sdk/client-sfn') as typeof import('@aws-sdk/client-sfn');
}

/**
 * An SDK `SFNClient` with the same retries and timeouts, for callers that make other Step Functions calls with it
 * (the local runtime's approvals and replays). The SDK is required when this is called.
 */
export function createSfnClient(options: SfnClientOptions = {}): SFNClient {
  const config: SFNClientConfig = {
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 2000, connectionTimeout: 1000 },
  };
  if (options.region) config.region = options.region;
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.credentials) config.credentials = { ...options.credentials };
  return new (sdk().SFNClient)(config);
}

/** The ARN of an execution, from its state machine's ARN and its name (Step Functions' own scheme). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

interface StartExecutionOutput {
  readonly executionArn?: string;
}

export class StepFunctionsWorkflowStarter implements WorkflowStarter {
  public constructor(
    private readonly client: AwsJsonClient | SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  public async start({ name, input, inputJson }: StartRequest): Promise<StartResult> {
    const request = { stateMachineArn: this.stateMachineArn, name, input: inputJson ?? JSON.stringify(input) };
    try {
      const output: StartExecutionOutput =
        this.client instanceof AwsJsonClient
          ? await this.client.call<StartExecutionOutput>('StartExecution', request)
          : await this.client.send(new (sdk().StartExecutionCommand)(request));
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
