import { statusDependencies, statusHandlerDependencies } from './dependencies';
import { createStatusHandler } from './handler';
import { statusSettings } from './settings';

/** Lambda entry point of the status function: its settings and AWS adapters, composed at cold start. */
export const handler = createStatusHandler(statusHandlerDependencies(statusDependencies(statusSettings(process.env))));
