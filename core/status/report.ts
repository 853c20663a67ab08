import type { StatusEvent, StatusResult } from './contracts';
import type { HostTransport } from './hosts';
import type { ConsoleLinks } from './links';
import { DEFAULT_CONTEXT_PREFIX, planStatus, subjectOf } from './plan';
import { deliver, summarize } from './reporter';

export interface ReportDeps {
  /** The transport for the event's provider; null when no credentials are configured for it. */
  readonly transport: HostTransport | null;
  readonly links: ConsoleLinks | null;
  readonly contextPrefix?: string;
}

/** The one core call of `functions/status`: plans the event's statuses and delivers them. Never throws. */
export async function reportStatus(event: StatusEvent, deps: ReportDeps): Promise<StatusResult> {
  const subject = subjectOf(event.request);
  if (!deps.transport) {
    return summarize(subject, [], { skippedReason: `no credentials for ${event.request.provider}` });
  }
  const contextPrefix = deps.contextPrefix ?? DEFAULT_CONTEXT_PREFIX;
  const plan = planStatus(event, { links: deps.links, contextPrefix });
  return deliver(subject, plan, deps.transport, {
    executionArn: event.executionArn,
    contextPrefix,
    environments: event.route.environments.map((env) => env.name),
  });
}
