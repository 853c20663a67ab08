import { createSfnClient, StepFunctionsWorkflowStarter } from '../../adapters/aws/workflow';
import { replaySettings } from '../../adapters/settings';
import { createReplayHandler } from './handler';

/**
 * The Lambda entry point of the replay function; settings are read at cold start. The SDK's Step Functions client
 * takes its region, credentials and any endpoint override from the environment.
 */
const settings = replaySettings();

export const handler = createReplayHandler({
  workflow: new StepFunctionsWorkflowStarter(createSfnClient(), settings.stateMachineArn),
});
