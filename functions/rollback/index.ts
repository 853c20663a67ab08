import { clusterDependencies } from '../deploy/dependencies';
import { deploySettings } from '../deploy/settings';
import { createRollbackHandler } from './handler';

/** Lambda entry point of the rollback function: the deploy functions' settings and cluster access, at cold start. */
export const handler = createRollbackHandler(clusterDependencies(deploySettings(process.env)));
