import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { clusterDependencies } from '../deploy/dependencies';
import { deploySettings } from '../deploy/settings';
import { createAnalysisHandler } from './handler';
import { prometheusProvider } from './prometheus';

/** Lambda entry point of the analysis function: the deploy functions' cluster access, Prometheus over fetch. */
export const handler = createAnalysisHandler({
  ...clusterDependencies(deploySettings(process.env)),
  prometheus: prometheusProvider({ fetch: (url, init) => fetch(url, init), credentials: defaultProvider() }),
});
