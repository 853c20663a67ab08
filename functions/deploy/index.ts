import { deployDependencies } from './dependencies';
import { createDeployHandler } from './handler';
import { deploySettings } from './settings';

/** Lambda entry point of the deploy function: its settings and AWS adapters, composed at cold start. */
export const handler = createDeployHandler(deployDependencies(deploySettings(process.env)));
