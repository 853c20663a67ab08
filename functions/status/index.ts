import { statusEnvironment } from './dependencies';
import { createStatusHandler } from './handler';

const env = statusEnvironment(process.env);

/** Lambda entry point of the status function. */
export const handler = createStatusHandler({
  transportFor: env.transportFor,
  links: env.settings.links,
  contextPrefix: env.settings.contextPrefix,
});
