import { createSfnClient, StepFunctionsWorkflowStarter } from '../../adapters/aws/workflow';
import { createReplayHandler } from './handler';
import { replaySettings } from './settings';

/**
 * The Lambda entry point of the replay function; settings are read at cold start. The SDK's Step Functions client
 * takes its region, credentials and any endpoint override from the environment.
 */
const settings = replaySettings(process.env);

export const handler = createReplayHandler({
  workflow: new StepFunctionsWorkflowStarter(createSfnClient(), settings.stateMachineArn),
});
