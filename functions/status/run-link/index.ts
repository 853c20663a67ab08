import { STATUS_ENV } from '../../../core/status/contracts';
import { ConsoleLinks } from '../../../core/status/links';
import { createRunLinkHandler } from './handler';

const stateMachineArn = process.env[STATUS_ENV.runLinkStateMachineArn] ?? '';
const region = process.env[STATUS_ENV.region] ?? '';
if (!stateMachineArn || !region) {
  throw new Error(`${STATUS_ENV.runLinkStateMachineArn} and ${STATUS_ENV.region} must be set`);
}

/** Lambda entry point of the run-link route (`GET /runs/{name}`): a redirect, composed at cold start. */
export const handler = createRunLinkHandler({
  stateMachineArn,
  links: new ConsoleLinks({ kind: 'aws', region }),
});
