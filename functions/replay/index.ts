import { createStepFunctionsClient, StepFunctionsWorkflowStarter } from '../../adapters/aws/workflow';
import { replaySettings } from '../../adapters/settings';
import { createReplayHandler } from './handler';

/** The Lambda entry point of the replay function; settings are read at cold start. */
const settings = replaySettings();

export const handler = createReplayHandler({
  workflow: new StepFunctionsWorkflowStarter(
    createStepFunctionsClient({ region: settings.region, endpoint: settings.sfnEndpoint }),
    settings.stateMachineArn,
  ),
});
