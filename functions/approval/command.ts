import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent } from 'aws-lambda';
import { type CommandAnswer, decideByCommand } from '../../core/approval/commands';
import type { ApprovalStore, TaskCallbacks } from '../../core/approval/contracts';
import type { Provider } from '../../core/config/schema';
import type { CommentCommand } from '../../core/intake/comments';
import type { HostTransport } from '../../core/status/hosts';
import { createLogger, createMetrics } from '../shared/observability';
import { githubPullRequest, isMember, reply } from './host-api';

/**
 * The comment commands' function (docs/adr/0039): the webhook passes each `/approve` or `/reject` on through a
 * queue (SQS on AWS, batch size 1; locally the runtime invokes it with the same event). Each is decided as on the
 * page, and answered with a reply comment that says what happened or why not. A command that cannot be decided now
 * (the store unreachable) fails the invocation, and the queue delivers it again; a reply that cannot be posted is
 * logged and counted, and does not undo the decision.
 */
export interface ApprovalCommandDependencies {
  readonly store: ApprovalStore;
  readonly callbacks: TaskCallbacks;
  readonly keys: () => Promise<readonly string[]>;
  /** Stepline's own transport to a host (the status functions' tokens), or null when it has none. */
  readonly transportFor: (provider: Provider) => Promise<HostTransport | null>;
  readonly now?: () => number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export type ApprovalCommandHandler = middy.MiddyfiedHandler<SQSEvent, CommandAnswer[], Error, Context>;

export function createApprovalCommandHandler(deps: ApprovalCommandDependencies): ApprovalCommandHandler {
  const logger = deps.logger ?? createLogger('stepline-approval-commands');
  const metrics = deps.metrics ?? createMetrics('stepline-approval-commands');
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  return middy<SQSEvent, CommandAnswer[], Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(async function approvalCommandHandler(event) {
      const answers: CommandAnswer[] = [];
      for (const message of event.Records ?? []) {
        const command = JSON.parse(message.body) as CommentCommand;
        logger.appendKeys({
          provider: command.provider,
          repository: command.repository,
          deliveryId: command.deliveryId,
        });
        const transport = await deps.transportFor(command.provider);
        const answer = await decideByCommand(command, {
          store: deps.store,
          callbacks: deps.callbacks,
          keys: await deps.keys(),
          now,
          ...(transport
            ? {
                pullRequest: (c: CommentCommand) => githubPullRequest(transport, c),
                isMember: (c: CommentCommand, team: string) => isMember(transport, c, team),
              }
            : {}),
        });
        metrics.addMetric(answer.done ? 'commandsDone' : 'commandsRefused', MetricUnit.Count, 1);
        logger.info('comment command', {
          command: command.action,
          environment: command.environment,
          by: command.commenter.login,
          done: answer.done,
          approvalId: answer.approvalId,
        });
        const status = transport ? await reply(transport, command, answer.text).catch(() => 0) : 0;
        if (status < 200 || status >= 300) {
          metrics.addMetric('commandRepliesFailed', MetricUnit.Count, 1);
          logger.warn('comment command: reply not posted', { status, reason: transport ? 'host' : 'no token' });
        }
        answers.push(answer);
      }
      return answers;
    });
}
