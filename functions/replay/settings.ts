import { ENV } from '../../core/contracts/environment';
import { type Environment, invalid, required } from '../shared/settings';

/**
 * The replay function's settings, read once at cold start. Only the state machine: the Step Functions client takes
 * its region, credentials and any endpoint override (`AWS_ENDPOINT_URL_SFN`) from the environment as the SDK reads
 * them. Its own module, not adapters/settings.ts, because that one loads the pipeline configuration's parser (zod,
 * about 440 KB in a bundle), which the replay never needs (docs/adr/0066).
 */
export interface ReplaySettings {
  readonly stateMachineArn: string;
}

/** The shape of a state machine ARN, as adapters/settings.ts checks it for the webhook. */
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

/** Reads the replay function's settings; a `ConfigError` names a missing or malformed variable. */
export function replaySettings(env: Environment): ReplaySettings {
  const stateMachineArn = required(env, ENV.stateMachineArn, 'the ARN of the pipeline state machine');
  if (!STATE_MACHINE_ARN.test(stateMachineArn)) {
    invalid(ENV.stateMachineArn, 'must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)');
  }
  return { stateMachineArn };
}
