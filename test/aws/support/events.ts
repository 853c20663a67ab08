import type { BundleFunction } from './lambda-host';
import type { StackValues } from './template';

/**
 * Amazon EventBridge for the suite, made from the template's `AWS::Events::Rule`s: an event is matched against
 * each rule's event pattern (exact values, as the platform's rules use; a pattern feature the matcher does not know
 * is an error, not a silent match) and delivered to the rule's Lambda targets, if an `AWS::Lambda::Permission`
 * lets `events.amazonaws.com` invoke the function for that rule. Scheduled rules run when a scenario says so.
 */

export interface Delivery {
  readonly rule: string;
  readonly target: string;
  readonly ok: boolean;
  readonly error?: string;
}

function matches(pattern: unknown, value: unknown, path: string): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((option) => {
      if (option !== null && typeof option === 'object') {
        throw new Error(
          `event pattern ${path}: content filter ${JSON.stringify(option)} is not supported by the suite`,
        );
      }
      return Array.isArray(value) ? value.includes(option) : value === option;
    });
  }
  if (pattern !== null && typeof pattern === 'object') {
    if (value === null || typeof value !== 'object') return false;
    return Object.entries(pattern as Record<string, unknown>).every(([key, sub]) =>
      matches(sub, (value as Record<string, unknown>)[key], `${path}.${key}`),
    );
  }
  throw new Error(`event pattern ${path}: ${JSON.stringify(pattern)} is not an array or an object`);
}

export class EventBridgeStandIn {
  public readonly deliveries: Delivery[] = [];
  private readonly pending = new Set<Promise<void>>();

  public constructor(
    private readonly values: StackValues,
    private readonly functionByArn: (arn: string) => { logicalId: string; fn: BundleFunction } | undefined,
  ) {}

  private permitted(functionLogicalId: string, ruleArn: string): boolean {
    return this.values.resourcesOf('AWS::Lambda::Permission').some((id) => {
      const props = this.values.properties(id);
      return (
        JSON.stringify(props['FunctionName']).includes(`"${functionLogicalId}"`) &&
        props['Principal'] === 'events.amazonaws.com' &&
        (props['SourceArn'] === undefined || this.values.string(props['SourceArn']) === ruleArn)
      );
    });
  }

  private deliver(ruleId: string, event: unknown): void {
    const props = this.values.properties(ruleId);
    const ruleArn = this.values.attribute(ruleId, 'Arn');
    for (const target of (props['Targets'] ?? []) as { Arn: unknown }[]) {
      const arn = this.values.string(target.Arn);
      const found = this.functionByArn(arn);
      if (!found) {
        this.deliveries.push({ rule: ruleId, target: arn, ok: false, error: 'the target is not a function here' });
        continue;
      }
      if (!this.permitted(found.logicalId, ruleArn)) {
        this.deliveries.push({ rule: ruleId, target: arn, ok: false, error: 'no permission for events.amazonaws.com' });
        continue;
      }
      const delivery = found.fn.invoke(event).then(
        () => void this.deliveries.push({ rule: ruleId, target: arn, ok: true }),
        (error: Error) =>
          void this.deliveries.push({ rule: ruleId, target: arn, ok: false, error: `${error.name}: ${error.message}` }),
      );
      this.pending.add(delivery);
      void delivery.finally(() => this.pending.delete(delivery));
    }
  }

  /** Puts an event on the default bus: every rule whose pattern matches delivers it to its targets. */
  public put(event: Record<string, unknown>): void {
    for (const id of this.values.resourcesOf('AWS::Events::Rule')) {
      const pattern = this.values.resolve(this.values.properties(id)['EventPattern']);
      if (pattern === undefined) continue;
      if (this.values.properties(id)['State'] === 'DISABLED') continue;
      if (matches(pattern, event, 'pattern')) this.deliver(id, event);
    }
  }

  /** Runs a scheduled rule's targets now, with the event EventBridge Scheduler's rate rules send. */
  public runSchedule(ruleId: string): void {
    const props = this.values.properties(ruleId);
    if (!props['ScheduleExpression']) throw new Error(`${ruleId} is not a scheduled rule`);
    this.deliver(ruleId, {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.values.accountId,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.values.region,
      resources: [this.values.attribute(ruleId, 'Arn')],
      detail: {},
    });
  }

  /** Resolves once the deliveries under way now have ended (not those put later). */
  public async delivered(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /** Resolves once every delivery in flight has been answered. */
  public async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
