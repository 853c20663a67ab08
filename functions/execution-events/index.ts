import { SFNClient } from '@aws-sdk/client-sfn';
import { describeExecutionReader } from '../../adapters/githost/execution-input';
import { statusEnvironment } from '../status/dependencies';
import { createExecutionEventsHandler } from './handler';

const env = statusEnvironment(process.env);

/** Lambda entry point: target of the EventBridge rule for the pipeline's execution status changes. */
export const handler = createExecutionEventsHandler({
  transportFor: env.transportFor,
  links: env.settings.links,
  contextPrefix: env.settings.contextPrefix,
  readExecutionInput: describeExecutionReader(new SFNClient({ endpoint: process.env.SFN_ENDPOINT || undefined })),
});
