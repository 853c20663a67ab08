import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type AlarmStateChangeEvent, incidentFromAlarm } from '../../core/insight/alarms';
import type { IncidentSink } from '../../core/intake/ports';
import { createLogger } from '../shared/observability';

/**
 * The alarm-incidents function (optional, ADR 0099): an EventBridge rule sends it the "CloudWatch Alarm State
 * Change" events of the alarms whose names start with the configured prefix; an alarm going to ALARM opens an
 * incident, going back to OK resolves it, each one PutItem on the deployments table. A write that fails throws, so
 * EventBridge retries the event and, after its retries, keeps it in the rule's dead-letter queue.
 */
export interface AlarmIncidentsDependencies {
  readonly incidents: IncidentSink;
  readonly prefix: string;
  readonly logger?: Logger;
}

export type AlarmIncidentsResult =
  | { readonly recorded: string; readonly state: 'open' | 'resolved' }
  | { ignored: string };

export function createAlarmIncidentsHandler(
  deps: AlarmIncidentsDependencies,
): middy.MiddyfiedHandler<AlarmStateChangeEvent, AlarmIncidentsResult, Error, Context> {
  const logger = deps.logger ?? createLogger('stepline-alarm-incidents');
  return middy<AlarmStateChangeEvent, AlarmIncidentsResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const incident = incidentFromAlarm(event, deps.prefix);
      if (incident === null) {
        const ignored = 'not an alarm of the prefix entering ALARM or leaving it for OK';
        logger.info('alarm state change ignored', { reason: ignored });
        return { ignored };
      }
      await deps.incidents.putIncident(incident);
      const state = incident.resolvedAt === null ? 'open' : 'resolved';
      logger.info('incident recorded', { incident: incident.id, state });
      return { recorded: incident.id, state };
    });
}
