import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoCoordinationStore } from '../../adapters/aws/coordination';
import { stepFunctionsStopper } from '../../adapters/aws/stopper';
import { Coordinator } from '../../core/coordination/service';
import type { CoordinationDependencies } from './handler';
import type { CoordinationSettings } from './settings';

/**
 * The coordination function on AWS: the DynamoDB store, and Step Functions to stop the runs a newer one supersedes.
 * The clients take their region and any endpoint override from the SDK's own variables. The local runtime builds
 * its SQLite store itself (local/runtime/functions.ts).
 */
export function coordinationDependencies(settings: CoordinationSettings): CoordinationDependencies {
  const store = new DynamoCoordinationStore(settings.table, new DynamoDBClient({}));
  return { coordinator: new Coordinator(store), stopper: stepFunctionsStopper(new SFNClient({})) };
}
