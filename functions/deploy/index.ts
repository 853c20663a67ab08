import { deployDependencies } from './dependencies';
import { createDeployHandler } from './handler';

/** Lambda entry point of the deploy function. */
export const handler = createDeployHandler(deployDependencies(process.env));
