import { deployDependencies } from '../deploy/dependencies';
import { createRolloutHandler } from './handler';

/** Lambda entry point of the rollout function. */
export const handler = createRolloutHandler(deployDependencies(process.env));
