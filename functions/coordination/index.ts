import { coordinationDependencies } from './dependencies';
import { createCoordinationHandler } from './handler';
import { coordinationSettings } from './settings';

/** Lambda entry point of the coordination function: its settings and AWS adapters, composed at cold start. */
export const handler = createCoordinationHandler(coordinationDependencies(coordinationSettings(process.env)));
