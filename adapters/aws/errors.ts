import { SteplineError } from '../../core/errors';

/**
 * Errors of the AWS JSON-protocol client (aws-json.ts). Each is named as the AWS SDK names the same failure, so
 * that callers and logs read the same whichever client made the call: a service error takes the service's error
 * code as its name (`ExecutionAlreadyExists`, `ThrottlingException`, `ResourceNotFoundException`), a timeout is a
 * `TimeoutError`, a credentials failure a `CredentialsProviderError`.
 */

/** What a failed call was and how far it got. */
export interface AwsCallDetails {
  /** The service's signing name: `states`, `secretsmanager`. */
  readonly service: string;
  /** The operation: `StartExecution`, `GetSecretValue`. */
  readonly operation: string;
}

/** A failure that a retry may cure (the SDK's standard mode: throttling and transient errors), or not. */
export type RetryKind = 'throttling' | 'transient' | null;

/** The base of the client's errors: which call failed and after how many attempts. */
export abstract class AwsCallError extends SteplineError {
  public readonly service: string;
  public readonly operation: string;
  /** Attempts made, the first included, when the error was thrown. */
  public attempts = 1;

  protected constructor(message: string, details: AwsCallDetails, options?: ErrorOptions) {
    super(message, options);
    this.service = details.service;
    this.operation = details.operation;
  }

  /** Whether, and how, the SDK's standard retry mode would retry this error. */
  public abstract get retryKind(): RetryKind;
}

/** The error codes that the SDK's standard mode treats as throttling (@smithy/core, THROTTLING_ERROR_CODES). */
export const THROTTLING_ERROR_CODES: ReadonlySet<string> = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

/** Error codes and HTTP statuses that the SDK's standard mode treats as transient. */
export const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
export const TRANSIENT_STATUS_CODES: ReadonlySet<number> = new Set([500, 502, 503, 504]);

/** Errors that a wrong clock causes; retried only once the clock skew has been corrected. */
export const CLOCK_SKEW_ERROR_CODES: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'AuthFailure',
  'InvalidSignatureException',
  'RequestExpired',
  'RequestInTheFuture',
  'RequestTimeTooSkewed',
  'SignatureDoesNotMatch',
]);

/** Node's codes for a connection that failed, was refused or dropped, which the SDK retries. */
export const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export interface AwsServiceErrorDetails extends AwsCallDetails {
  readonly statusCode: number;
  readonly requestId: string | null;
  /** The clock was off and has been corrected: a new attempt will be signed with the right time. */
  readonly clockSkewCorrected?: boolean;
}

/**
 * The service answered with an error (an HTTP status of 300 or more and, usually, a JSON body with `__type` and
 * `message`). `name` is the sanitized error code; `Unknown` when the answer named none.
 */
export class AwsServiceError extends AwsCallError {
  public readonly code: string;
  public readonly statusCode: number;
  /** `client` for a 4xx (the request was wrong), `server` for a 5xx. */
  public readonly fault: 'client' | 'server';
  public readonly requestId: string | null;
  public readonly clockSkewCorrected: boolean;

  public constructor(code: string, message: string, details: AwsServiceErrorDetails, options?: ErrorOptions) {
    super(message, details, options);
    this.name = code;
    this.code = code;
    this.statusCode = details.statusCode;
    this.fault = details.statusCode < 500 ? 'client' : 'server';
    this.requestId = details.requestId;
    this.clockSkewCorrected = details.clockSkewCorrected === true;
  }

  public get retryKind(): RetryKind {
    if (this.statusCode === 429 || THROTTLING_ERROR_CODES.has(this.code)) return 'throttling';
    if (
      this.clockSkewCorrected ||
      TRANSIENT_ERROR_CODES.has(this.code) ||
      TRANSIENT_STATUS_CODES.has(this.statusCode) ||
      (this.code === 'InvalidSignatureException' && this.message.includes('Signature expired'))
    ) {
      return 'transient';
    }
    return null;
  }
}

/** No answer within the request (or connection) timeout; the request was abandoned. */
export class AwsTimeoutError extends AwsCallError {
  public readonly timeoutMs: number;

  public constructor(message: string, details: AwsCallDetails & { readonly timeoutMs: number }) {
    super(message, details);
    this.name = 'TimeoutError';
    this.timeoutMs = details.timeoutMs;
  }

  public get retryKind(): RetryKind {
    return 'transient';
  }
}

/** The connection failed: refused, reset, unreachable, name not resolved. `code` is Node's (`ECONNREFUSED`). */
export class AwsNetworkError extends AwsCallError {
  public readonly code: string;

  public constructor(message: string, details: AwsCallDetails & { readonly code: string }, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'NetworkingError';
    this.code = details.code;
  }

  public get retryKind(): RetryKind {
    return RETRYABLE_NETWORK_CODES.has(this.code) ? 'transient' : null;
  }
}

/** No credentials could be found or loaded. Never retried: the next attempt would find none either. */
export class AwsCredentialsError extends AwsCallError {
  public constructor(message: string, details: AwsCallDetails, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'CredentialsProviderError';
  }

  public get retryKind(): RetryKind {
    return null;
  }
}

/** The client was built without what it needs (no region and no endpoint). */
export class AwsClientConfigError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AwsClientConfigError';
  }
}

/** How the SDK's standard mode would retry `error`: throttling, transient, or not at all. */
export function retryKindOf(error: unknown): RetryKind {
  if (error instanceof AwsCallError) return error.retryKind;
  return null;
}
