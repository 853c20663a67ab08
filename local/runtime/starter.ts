import type { StartRequest, StartResult, WorkflowStarter } from '../../core/intake/ports';

/**
 * The runtime's one place that says whether a start is new: the webhook, the replay of parked deliveries and the
 * runs started by hand all start through it. A start whose execution name exists already is a redelivery,
 * answered `duplicate` with that execution, whether the run has ended or is still going: Step Functions answers a
 * StartExecution with the name and input of a *running* execution as if it had started it (its idempotency), which
 * the webhook used to report as `202 started`, where the contract says `200 duplicate` (docs/adr/0006).
 * Starts of one name that overlap wait for the first, and the others are duplicates of it.
 */
export class RuntimeWorkflowStarter implements WorkflowStarter {
  private readonly inFlight = new Map<string, Promise<StartResult>>();

  public constructor(
    private readonly inner: WorkflowStarter,
    /** The ARN of the execution of this name, if there is one. */
    private readonly existing: (name: string) => string | undefined,
  ) {}

  public async start(request: StartRequest): Promise<StartResult> {
    const pending = this.inFlight.get(request.name);
    if (pending) {
      const first = await pending.catch(() => undefined);
      if (first) return { outcome: 'duplicate', executionArn: first.executionArn };
    }
    const arn = this.existing(request.name);
    if (arn) return { outcome: 'duplicate', executionArn: arn };
    const started = this.inner.start(request);
    this.inFlight.set(request.name, started);
    try {
      return await started;
    } finally {
      if (this.inFlight.get(request.name) === started) this.inFlight.delete(request.name);
    }
  }
}
