import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { REPLAY_METRICS } from '../../core/contracts/metrics';
import type { WorkflowStarter } from '../../core/intake/ports';
import { parseParkedDelivery, replayDelivery } from '../../core/intake/replay';
import { createLogger, createMetrics } from '../shared/observability';

/**
 * The replay function on AWS: an SQS event source on the parking queue (with `ReportBatchItemFailures`). Each
 * message is started again under its execution name; the messages that fail are reported as batch item failures,
 * so SQS keeps them (and, after the queue's maxReceiveCount, moves them to its dead-letter queue).
 */

export interface ReplayDependencies {
  readonly workflow: WorkflowStarter;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export type ReplayHandler = middy.MiddyfiedHandler<SQSEvent, SQSBatchResponse, Error, Context>;

export function createReplayHandler(dependencies: ReplayDependencies): ReplayHandler {
  const logger = dependencies.logger ?? createLogger('stepline-replay');
  const metrics = dependencies.metrics ?? createMetrics('stepline-replay');

  const replay = async function replay(event: SQSEvent): Promise<SQSBatchResponse> {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      let parked: ReturnType<typeof parseParkedDelivery>;
      try {
        parked = parseParkedDelivery(record.body);
      } catch (error) {
        metrics.addMetric(REPLAY_METRICS.replayFailed, MetricUnit.Count, 1);
        logger.error('parked delivery unreadable: left for the dead-letter queue', {
          messageId: record.messageId,
          reason: (error as Error).message,
        });
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      const { request } = parked.input;
      const keys = {
        messageId: record.messageId,
        deliveryId: request.deliveryId,
        provider: request.provider,
        repository: request.repository.fullName,
        executionName: parked.name,
      };
      const result = await replayDelivery(parked, dependencies.workflow);
      switch (result.outcome) {
        case 'started':
          metrics.addMetric(REPLAY_METRICS.replayed, MetricUnit.Count, 1);
          logger.info('parked delivery started', { ...keys, executionArn: result.executionArn });
          break;
        case 'duplicate':
          metrics.addMetric(REPLAY_METRICS.replayDuplicate, MetricUnit.Count, 1);
          logger.info('parked delivery had started already', { ...keys, executionArn: result.executionArn });
          break;
        case 'failed':
          metrics.addMetric(REPLAY_METRICS.replayFailed, MetricUnit.Count, 1);
          logger.warn('parked delivery still cannot start: it stays parked', { ...keys, reason: result.reason });
          failures.push({ itemIdentifier: record.messageId });
          break;
      }
    }
    return { batchItemFailures: failures };
  };

  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(replay);
}
