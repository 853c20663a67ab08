import type { ExecutionInput } from '../intake/types';

/**
 * A delivery that was verified and routed but could not be started (Step Functions throttled or unavailable after
 * the SDK's retries). It is parked, as this JSON document, in a durable queue (SQS on AWS, SQLite locally) and the
 * replay function starts it later under the same execution name, so a replay after a late success is a duplicate.
 */
export interface ParkedDelivery {
  readonly version: 1;
  /** The execution name: the same one the webhook tried. */
  readonly name: string;
  readonly input: ExecutionInput;
  /** ISO-8601 time the delivery was parked. */
  readonly parkedAt: string;
  /** Why StartExecution failed (an error name and message, never a body or a secret). */
  readonly reason: string;
}

/** SQS message attributes set on a parked delivery, so that operators can find one without reading bodies. */
export const PARKED_ATTRIBUTES = { provider: 'provider', deliveryId: 'deliveryId', repository: 'repository' } as const;
