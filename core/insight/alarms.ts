import type { Incident } from './contracts';
import { namedIn } from './incidents';

/**
 * CloudWatch alarms as incidents (issue 19, ADR 0099), optional, by alarm name prefix: an alarm whose name starts
 * with the prefix opens an incident when it goes to ALARM and resolves it when it goes back to OK. The EventBridge
 * event "CloudWatch Alarm State Change" (CloudWatch's "Alarm events and EventBridge") carries `detail.alarmName`,
 * `detail.state` and `detail.previousState` (each `{ value, reason, timestamp }`) and `detail.configuration.
 * description`, so both writes are pure: the incident's id is `alarm:<name>@<when it went to ALARM>`, which the OK
 * event knows as its `previousState.timestamp`; no read is needed. The alarm's description names the environment
 * and a cause as an issue does (`environment: production`, `root cause: <commit>`); one that names neither is
 * attributed to nothing (ADR 0097).
 */

export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';

/** The alarm-incidents function's variable of the alarm name prefix (set by StatusReporter.addAlarmIncidents). */
export const ALARM_PREFIX_ENV = 'STEPLINE_INCIDENT_ALARM_PREFIX';

interface AlarmState {
  readonly value?: unknown;
  readonly timestamp?: unknown;
}

export interface AlarmStateChangeEvent {
  readonly 'detail-type'?: string;
  readonly detail?: {
    readonly alarmName?: unknown;
    readonly state?: AlarmState;
    readonly previousState?: AlarmState;
    readonly configuration?: { readonly description?: unknown };
  };
}

/** CloudWatch writes `2019-10-02T17:04:40.985+0000`; an offset without its colon is read as ISO 8601's. */
function isoOf(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const time = Date.parse(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  return Number.isFinite(time) ? new Date(time).toISOString() : null;
}

/**
 * The incident write an alarm state change makes, or null: not an alarm of the prefix, or a change that neither
 * enters ALARM nor leaves it for OK (INSUFFICIENT_DATA leaves the incident open).
 */
export function incidentFromAlarm(event: AlarmStateChangeEvent, prefix: string): Incident | null {
  const detail = event.detail;
  const name = detail?.alarmName;
  if (event['detail-type'] !== ALARM_STATE_CHANGE || typeof name !== 'string' || !name.startsWith(prefix)) return null;
  const state = detail?.state?.value;
  const previous = detail?.previousState?.value;
  const now = isoOf(detail?.state?.timestamp);
  const before = isoOf(detail?.previousState?.timestamp);
  let openedAt: string | null;
  let resolvedAt: string | null;
  if (state === 'ALARM' && previous !== 'ALARM') [openedAt, resolvedAt] = [now, null];
  else if (state === 'OK' && previous === 'ALARM') [openedAt, resolvedAt] = [before, now];
  else return null;
  if (openedAt === null || (state === 'OK' && resolvedAt === null)) return null;
  const description = typeof detail?.configuration?.description === 'string' ? detail.configuration.description : '';
  const named = namedIn(description);
  return {
    id: `alarm:${name}@${openedAt}`,
    source: 'alarm',
    provider: null,
    repository: null,
    environment: named.environment,
    title: name,
    openedAt,
    resolvedAt,
    commits: named.commits,
    executions: named.executions,
  };
}
