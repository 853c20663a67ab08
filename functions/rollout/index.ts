import { clusterDependencies } from '../deploy/dependencies';
import { deploySettings } from '../deploy/settings';
import { createRolloutHandler } from './handler';

/** Lambda entry point of the rollout function: the deploy functions' settings and cluster access, at cold start. */
export const handler = createRolloutHandler(clusterDependencies(deploySettings(process.env)));
