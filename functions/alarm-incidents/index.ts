import { DynamoDeploymentStore } from '../../adapters/aws/deployments-dynamodb';
import { ALARM_PREFIX_ENV } from '../../core/insight/alarms';
import { INSIGHT_ENV } from '../../core/insight/contracts';
import { createAlarmIncidentsHandler } from './handler';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** Lambda entry point: target of the EventBridge rule for the alarms of the prefix. */
export const handler = createAlarmIncidentsHandler({
  incidents: new DynamoDeploymentStore(required(INSIGHT_ENV.table)),
  prefix: required(ALARM_PREFIX_ENV),
});
