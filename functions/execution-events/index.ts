import { SFNClient } from '@aws-sdk/client-sfn';
import { describeExecutionReader } from '../../adapters/githost/execution-input';
import { statusDependencies, statusHandlerDependencies } from '../status/dependencies';
import { statusSettings } from '../status/settings';
import { createExecutionEventsHandler } from './handler';

const status = statusDependencies(statusSettings(process.env));

/** Lambda entry point: target of the EventBridge rule for the pipeline's execution status changes. */
export const handler = createExecutionEventsHandler({
  ...statusHandlerDependencies(status),
  readExecutionInput: describeExecutionReader(new SFNClient({})),
});
