import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import Database from 'better-sqlite3';
import { DynamoCoordinationStore } from '../../adapters/aws/coordination';
import { type RunStopper, stepFunctionsStopper } from '../../adapters/aws/stopper';
import { SqliteCoordinationStore } from '../../adapters/local/coordination';
import { COORDINATION_ENV } from '../../core/coordination/contracts';
import { Coordinator } from '../../core/coordination/service';
import { ConfigError } from '../../core/errors';

export interface CoordinationDependencies {
  readonly coordinator: Coordinator;
  readonly stopper: RunStopper;
}

/**
 * Builds the coordinator from the environment once, at cold start: SQLite when `STEPLINE_COORDINATION_DB` is set
 * (the local runtime), else the DynamoDB table `STEPLINE_COORDINATION_TABLE`.
 */
export function coordinationDependencies(env: NodeJS.ProcessEnv): CoordinationDependencies {
  const sqlitePath = env[COORDINATION_ENV.sqlitePath];
  const table = env[COORDINATION_ENV.table];
  const region = env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'];
  let store: DynamoCoordinationStore | SqliteCoordinationStore;
  if (sqlitePath) {
    const db = new Database(sqlitePath);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    store = new SqliteCoordinationStore(db);
  } else if (table) {
    store = new DynamoCoordinationStore(table, new DynamoDBClient(region ? { region } : {}));
  } else {
    const reason = `is not set, and neither is ${COORDINATION_ENV.sqlitePath}: one must name the coordination store`;
    throw new ConfigError(`${COORDINATION_ENV.table}: ${reason}`, [{ path: COORDINATION_ENV.table, message: reason }]);
  }
  const endpoint = env[COORDINATION_ENV.sfnEndpoint];
  const sfn = new SFNClient({ ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) });
  return { coordinator: new Coordinator(store), stopper: stepFunctionsStopper(sfn) };
}
