/**
 * How the intake's AWS adapters read the AWS SDK's errors. The SDK names a service error by the service's error
 * code (`ExecutionAlreadyExists`, `ThrottlingException`, `ResourceNotFoundException`; a namespaced `__type` such as
 * `com.amazonaws.swf.service.v2.model#StateMachineDoesNotExist` sanitized to its last part), a request that ran out
 * of time `TimeoutError`, and puts the HTTP status and the attempts it made (after its own retries: throttling,
 * 5xx, timeouts, refused connections) in `$metadata`. The adapters map them onto the intake's errors:
 * - StartExecution: `ExecutionAlreadyExists` is a duplicate (the delivery was seen before); anything else is a
 *   `WorkflowUnavailableError`, and the webhook parks the delivery (workflow.ts);
 * - GetSecretValue: a `SecretsUnavailableError`, the cached secret kept when there is one (secrets.ts);
 * - SendMessage: a `ParkingError`, and the webhook answers 503 so that the Git host redelivers (parking.ts).
 */

/** The error code AWS answers when an execution of that name exists already (running with other input, or closed). */
export const EXECUTION_ALREADY_EXISTS = 'ExecutionAlreadyExists';

interface AwsErrorMetadata {
  readonly httpStatusCode?: number;
  readonly attempts?: number;
}

/** Whether `error` is the service error `code`, as the SDK names it. */
export function isAwsError(error: unknown, code: string): boolean {
  return error instanceof Error && error.name === code;
}

/** The name the SDK gave the error (the service's error code, `TimeoutError`, ...), or `unknown error`. */
export function awsErrorName(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown error';
}

/**
 * A failed call as a reason for a log line or a parked delivery: `Name: message (HTTP 503, 3 attempts)`. Only the
 * error's name, message and `$metadata` are read, never a request or an answer body.
 */
export function describeAwsError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const metadata = (error as { $metadata?: AwsErrorMetadata }).$metadata;
  const details: string[] = [];
  if (metadata?.httpStatusCode !== undefined) details.push(`HTTP ${metadata.httpStatusCode}`);
  if (metadata?.attempts !== undefined)
    details.push(`${metadata.attempts} attempt${metadata.attempts === 1 ? '' : 's'}`);
  return `${error.name}: ${error.message}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
}
