import { coordinationDependencies } from './dependencies';
import { createCoordinationHandler } from './handler';

/** Lambda entry point of the coordination function. */
export const handler = createCoordinationHandler(coordinationDependencies(process.env));
