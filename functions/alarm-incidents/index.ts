import { DynamoDeploymentStore } from '../../adapters/aws/deployments-dynamodb';
import { createAlarmIncidentsHandler } from './handler';
import { alarmIncidentsSettings } from './settings';

const settings = alarmIncidentsSettings();

/** Lambda entry point: target of the EventBridge rule for the alarms of the prefix (ADR 0099). */
export const handler = createAlarmIncidentsHandler({
  incidents: new DynamoDeploymentStore(settings.table),
  prefix: settings.prefix,
});
