import { deployDependencies } from '../deploy/dependencies';
import { createRollbackHandler } from './handler';

/** Lambda entry point of the rollback function. */
export const handler = createRollbackHandler(deployDependencies(process.env));
