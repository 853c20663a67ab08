import { SFNClient } from '@aws-sdk/client-sfn';
import { describeExecutionReader } from '../../adapters/githost/execution-input';
import { statusEnvironment } from '../status/dependencies';
import { createBuildEventsHandler } from './handler';

const env = statusEnvironment(process.env);

/** Lambda entry point: target of the EventBridge rule for CodeBuild phase and state changes. */
export const handler = createBuildEventsHandler({
  transportFor: env.transportFor,
  links: env.settings.links,
  contextPrefix: env.settings.contextPrefix,
  readExecutionInput: describeExecutionReader(new SFNClient({ endpoint: process.env.SFN_ENDPOINT || undefined })),
});
