import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { SteplineConfig } from '../../core/config/schema';
import { HANDOFF_PROVIDER, HANDOFF_ROUTE } from '../../core/contracts/handoff';
import { REJECTED_REASON_DIMENSION, WEBHOOK_METRICS } from '../../core/contracts/metrics';
import { WEBHOOK_PATH_PARAMETER } from '../../core/contracts/webhook';
import { type HandoffSecretSource, receiveHandoff } from '../../core/intake/handoff';
import { Intake } from '../../core/intake/intake';
import type {
  ApprovalCommandQueue,
  CommitResolver,
  IncidentSink,
  ParkingQueue,
  RerunStarter,
  WebhookSecretSource,
  WorkflowStarter,
} from '../../core/intake/ports';
import { type Receipt, receive } from '../../core/intake/receive';
import { httpErrorHandler } from '../shared/error-handler';
import { jsonResponse, rawBody } from '../shared/http';
import { createLogger, createMetrics } from '../shared/observability';

/**
 * The webhook function: `POST /webhooks/{provider}` (API Gateway HTTP API, payload v2). A middy chain around one
 * core call, `receive`: verify, normalize, route, start or park. The factory takes its dependencies, so that
 * tests and the local runtime build it with theirs; `index.ts` builds the AWS ones at cold start.
 */

export interface WebhookDependencies {
  readonly config: SteplineConfig;
  readonly secrets: WebhookSecretSource;
  readonly workflow: WorkflowStarter;
  readonly parking: ParkingQueue;
  /** Where comment commands (`/approve`, `/reject`) go; without it comment events start nothing. */
  readonly commands?: ApprovalCommandQueue;
  /**
   * Resolves an abbreviated commit (Bitbucket's pull requests) before its run starts (docs/adr/0090); without it
   * such a run starts at the abbreviated hash, and its build and statuses fail.
   */
  readonly commits?: CommitResolver;
  /** Starts the re-runs GitHub's "Re-run" on a check run asks for (docs/adr/0091); without it they start nothing. */
  readonly reruns?: RerunStarter;
  /** Where issues labelled `incident` are written (ADR 0099); without it issue events start nothing. */
  readonly incidents?: IncidentSink;
  /**
   * The secrets of the hand-off sources (`POST /webhooks/generic`, docs/adr/0100); without it every hand-off is
   * refused 401.
   */
  readonly handoffSecrets?: HandoffSecretSource;
  /** The artifacts bucket's name, for `{artifactsBucket}` in the hand-off sources' manifests locations. */
  readonly handoffArtifactsBucket?: string;
  /** Largest body accepted, in bytes. Default 4 MiB. */
  readonly maxBodyBytes?: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => Date;
  /**
   * Called with every delivery's receipt (its answer and what happened), after logging: the local runtime counts
   * deliveries for its /metrics from it. An exception thrown here is logged and does not change the answer.
   */
  readonly onReceipt?: (receipt: Receipt) => void;
}

export type WebhookEvent = APIGatewayProxyEventV2;
export type WebhookResult = APIGatewayProxyStructuredResultV2;
export type WebhookHandler = middy.MiddyfiedHandler<WebhookEvent, WebhookResult, Error, Context>;

function report(receipt: Receipt, logger: Logger, metrics: Metrics): void {
  const keys: Record<string, string> = {};
  for (const [key, value] of Object.entries(receipt.keys)) if (value !== undefined) keys[key] = value;
  logger.appendKeys(keys);
  for (const outcome of receipt.outcomes) {
    switch (outcome.kind) {
      case 'started':
        metrics.addMetric(WEBHOOK_METRICS.accepted, MetricUnit.Count, 1);
        logger.info('execution started', { executionArn: outcome.executionArn });
        break;
      case 'duplicate':
        metrics.addMetric(WEBHOOK_METRICS.duplicate, MetricUnit.Count, 1);
        logger.info('redelivery: the execution exists already', { executionName: outcome.name });
        break;
      case 'pong':
        metrics.addMetric(WEBHOOK_METRICS.ignored, MetricUnit.Count, 1);
        logger.info('ping answered');
        break;
      case 'ignored':
      case 'skipped':
        metrics.addMetric(WEBHOOK_METRICS.ignored, MetricUnit.Count, 1);
        logger.info(`delivery ${outcome.kind}`, { code: outcome.code, reason: outcome.detail });
        break;
      case 'rejected':
        metrics.addDimension(REJECTED_REASON_DIMENSION, outcome.code);
        metrics.addMetric(WEBHOOK_METRICS.rejected, MetricUnit.Count, 1);
        logger.warn('delivery rejected', { status: receipt.status, code: outcome.code, reason: outcome.detail });
        break;
      case 'queued':
        metrics.addMetric(WEBHOOK_METRICS.queued, MetricUnit.Count, 1);
        logger.warn('StartExecution failed: delivery parked for replay', {
          executionName: outcome.name,
          reason: outcome.detail,
        });
        break;
      case 'incident':
        metrics.addMetric(WEBHOOK_METRICS.accepted, MetricUnit.Count, 1);
        logger.info('incident recorded', { incident: outcome.id, state: outcome.state });
        break;
      case 'command':
        metrics.addMetric(WEBHOOK_METRICS.accepted, MetricUnit.Count, 1);
        logger.info('comment command passed on', { command: outcome.action, environment: outcome.environment });
        break;
      case 'failed':
        metrics.addMetric(WEBHOOK_METRICS.failed, MetricUnit.Count, 1);
        logger.error('delivery not accepted (503): the Git host must redeliver it', {
          executionName: outcome.name,
          reason: outcome.detail,
        });
        break;
    }
  }
}

/** Without hand-off secrets, no source can sign: every hand-off is refused 401. */
const NO_HANDOFF_SECRETS: HandoffSecretSource = { get: async () => null };

export function createWebhookHandler(dependencies: WebhookDependencies): WebhookHandler {
  const intake = new Intake(dependencies.config, { maxBodyBytes: dependencies.maxBodyBytes });
  const logger = dependencies.logger ?? createLogger('stepline-webhook');
  const metrics = dependencies.metrics ?? createMetrics('stepline-webhook');
  const ports = {
    secrets: dependencies.secrets,
    workflow: dependencies.workflow,
    parking: dependencies.parking,
    ...(dependencies.commands ? { commands: dependencies.commands } : {}),
    ...(dependencies.commits ? { commits: dependencies.commits } : {}),
    ...(dependencies.reruns ? { reruns: dependencies.reruns } : {}),
    ...(dependencies.incidents ? { incidents: dependencies.incidents } : {}),
    now: dependencies.now,
  };

  const webhook = async function webhook(event: WebhookEvent): Promise<WebhookResult> {
    const { body, byteLength } = rawBody(event, intake.maxBodyBytes);
    const provider = event.pathParameters?.[WEBHOOK_PATH_PARAMETER];
    const receipt =
      event.routeKey === HANDOFF_ROUTE || provider === HANDOFF_PROVIDER
        ? await receiveHandoff(
            dependencies.config,
            { headers: event.headers ?? {}, body, byteLength },
            {
              ...ports,
              secrets: dependencies.handoffSecrets ?? NO_HANDOFF_SECRETS,
              ...(dependencies.handoffArtifactsBucket ? { artifactsBucket: dependencies.handoffArtifactsBucket } : {}),
            },
            intake.maxBodyBytes,
          )
        : await receive(intake, { provider, headers: event.headers ?? {}, body, byteLength }, ports);
    report(receipt, logger, metrics);
    if (dependencies.onReceipt !== undefined) {
      try {
        dependencies.onReceipt(receipt);
      } catch (error) {
        logger.warn('onReceipt failed', error as Error);
      }
    }
    return jsonResponse(receipt.status, receipt.body);
  };

  return middy<WebhookEvent, WebhookResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(httpErrorHandler({ logger }) as middy.MiddlewareObj<WebhookEvent, WebhookResult, Error, Context>)
    .handler(webhook);
}
