import { insightDependencies, statusDependencies, statusHandlerDependencies } from './dependencies';
import { createStatusHandler } from './handler';
import { insightSettings, statusSettings } from './settings';

/** Lambda entry point of the status function: its settings and AWS adapters, composed at cold start. */
const status = statusDependencies(statusSettings(process.env));
export const handler = createStatusHandler({
  ...statusHandlerDependencies(status),
  ...insightDependencies(insightSettings(process.env), status),
});
