/**
 * Metric names and dimensions the functions emit (CloudWatch embedded metric format through Powertools). The
 * Observability construct builds its dashboard and alarms from these names, the local runtime's /metrics too.
 */
export const METRICS_NAMESPACE = 'Stepline';

export const WEBHOOK_METRICS = {
  /** A delivery started an execution. */
  accepted: 'accepted',
  /** A redelivery: Step Functions answered ExecutionAlreadyExists. */
  duplicate: 'duplicate',
  /** A verified delivery that starts nothing (ping, unconfigured ref, path filter, ...). */
  ignored: 'ignored',
  /** A request refused with a 4xx; dimension `reason` (a RejectCode). */
  rejected: 'rejected',
  /** StartExecution failed after the SDK's retries; the delivery was parked for replay. */
  queued: 'queued',
  /** Neither started nor parked, or the secrets could not be read: answered 503, the host must redeliver. Alarm on it. */
  failed: 'failed',
} as const;

export const REPLAY_METRICS = {
  /** A parked delivery was started. */
  replayed: 'replayed',
  /** A parked delivery turned out to be started already (a late success). */
  replayDuplicate: 'replayDuplicate',
  /** A parked delivery could not be started again and stays parked. Alarm on it. */
  replayFailed: 'replayFailed',
} as const;

export const REJECTED_REASON_DIMENSION = 'reason';
