import { SFNClient } from '@aws-sdk/client-sfn';
import { describeExecutionReader } from '../../adapters/githost/execution-input';
import { statusDependencies, statusHandlerDependencies } from '../status/dependencies';
import { statusSettings } from '../status/settings';
import { createBuildEventsHandler } from './handler';

const status = statusDependencies(statusSettings(process.env));

/** Lambda entry point: target of the EventBridge rule for CodeBuild phase and state changes. */
export const handler = createBuildEventsHandler({
  ...statusHandlerDependencies(status),
  readExecutionInput: describeExecutionReader(new SFNClient({})),
});
