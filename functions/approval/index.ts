import { statusEnvironment } from '../status/dependencies';
import { createApprovalCommandHandler } from './command';
import { approvalEnvironment } from './dependencies';
import { createApprovalHttpHandler } from './http';
import { createApprovalKeeperHandler } from './keeper';
import { createApprovalTaskHandler } from './task';

const status = statusEnvironment(process.env);
const approval = approvalEnvironment(process.env);

/** Lambda entry point of the workflow's `.waitForTaskToken` approval task. */
export const taskHandler = createApprovalTaskHandler({
  store: approval.store,
  keys: approval.keys,
  baseUrl: approval.baseUrl,
  transportFor: status.transportFor,
  links: status.settings.links,
  contextPrefix: status.settings.contextPrefix,
});

/** Lambda entry point of `GET` and `POST /approvals/{id}` and `GET /approvals/oauth/callback` (API Gateway HTTP API). */
export const httpHandler = createApprovalHttpHandler({
  store: approval.store,
  callbacks: approval.callbacks,
  keys: approval.keys,
  identity: approval.identity,
  links: status.settings.links,
  baseUrl: approval.baseUrl,
});

/** Lambda entry point of the approval keeper (an EventBridge schedule): heartbeats the waiting approval tasks. */
export const keeperHandler = createApprovalKeeperHandler({ store: approval.store, callbacks: approval.callbacks });

/** Lambda entry point of the comment commands (an SQS queue the webhook fills): decides and replies. */
export const commandHandler = createApprovalCommandHandler({
  store: approval.store,
  callbacks: approval.callbacks,
  keys: approval.keys,
  transportFor: status.transportFor,
});
