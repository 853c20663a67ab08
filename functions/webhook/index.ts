import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerHandoffSecrets } from '../../adapters/aws/handoff-secrets';
import { StepFunctionsRerunStarter } from '../../adapters/aws/rerun';
import { createSecretsManagerClient, SecretsManagerWebhookSecrets } from '../../adapters/aws/secrets';
import { createSfnClient, StepFunctionsWorkflowStarter } from '../../adapters/aws/workflow';
import { gitHostCommitResolver } from '../../adapters/githost/commits';
import { gitHostSettings } from '../../adapters/githost/settings';
import { StaticTokenSource, type TokenSource } from '../../adapters/githost/tokens';
import { SecretsManagerTokenSource } from '../../adapters/githost/tokens-secrets-manager';
import { webhookSettings } from '../../adapters/settings';
import type { ParkedDelivery } from '../../core/contracts/parking';
import { DEFAULT_SECRET_TTL_SECONDS } from '../../core/contracts/webhook';
import type { Incident } from '../../core/insight/contracts';
import type { CommentCommand } from '../../core/intake/comments';
import type {
  ApprovalCommandQueue,
  CommitResolver,
  IncidentSink,
  ParkingQueue,
  WebhookSecretSource,
} from '../../core/intake/ports';
import { StaticWebhookSecrets } from '../../core/intake/secrets';
import { createWebhookHandler } from './handler';

/**
 * The Lambda entry point. Settings are read once, at cold start: an invalid configuration fails the init with a
 * ConfigError that names the field, before any delivery is taken. The configuration is the sealed document the
 * construct bundles (validated at synth; zod is loaded only for a configuration that is not sealed).
 * StartExecution and GetSecretValue go through the AWS SDK's clients, made at cold start (the first delivery needs
 * both); the SQS client is made only when a delivery must be parked, which a healthy function never does
 * (docs/adr/0008, docs/adr/0046, docs/adr/0066). Region, credentials and endpoints come from the environment as
 * the SDK reads them.
 *
 * An abbreviated commit (a Bitbucket pull request's) is asked of its Git host's commit API with the status
 * functions' tokens, read from their secret on first use (docs/adr/0090); GitHub's "Re-run" on a check run
 * starts the run's input again with DescribeExecution and StartExecution on the same Step Functions client
 * (docs/adr/0091).
 */
const settings = webhookSettings();

let secretsManager: SecretsManagerClient | undefined;
/** One Secrets Manager client for the webhook secret and the Git host tokens, made when the first needs it. */
function secretsManagerClient(): SecretsManagerClient {
  secretsManager ??= createSecretsManagerClient();
  return secretsManager;
}

function secretSource(): WebhookSecretSource {
  if (settings.secrets.kind === 'static') {
    return new StaticWebhookSecrets({ current: settings.secrets.current, previous: settings.secrets.previous });
  }
  return new SecretsManagerWebhookSecrets(
    secretsManagerClient(),
    settings.secrets.secretId,
    settings.secrets.ttlSeconds * 1000,
  );
}

/** The Git hosts' commit APIs, with the tokens of the status functions' secret (read on the first lookup). */
function commitResolver(): CommitResolver {
  const { gitHost, tokens } = settings.commits;
  const source: TokenSource =
    'secretId' in tokens
      ? new SecretsManagerTokenSource({ client: secretsManagerClient(), secretId: tokens.secretId })
      : new StaticTokenSource(tokens.values);
  return gitHostCommitResolver(gitHostSettings(gitHost), source);
}

/** The SQS parking queue, loaded on first use. */
class LazySqsParkingQueue implements ParkingQueue {
  private queue: Promise<ParkingQueue> | null = null;

  public async park(delivery: ParkedDelivery): Promise<void> {
    this.queue ??= import('../../adapters/aws/parking').then(
      (aws) => new aws.SqsParkingQueue(aws.createSqsClient(), settings.parkingQueueUrl),
    );
    const queue = await this.queue;
    return queue.park(delivery);
  }
}

/** The approval commands queue (comment commands, docs/adr/0039), loaded on first use like the parking queue. */
class LazySqsCommandQueue implements ApprovalCommandQueue {
  private queue: Promise<ApprovalCommandQueue> | null = null;

  public constructor(private readonly queueUrl: string) {}

  public async submit(command: CommentCommand): Promise<void> {
    this.queue ??= Promise.all([
      import('../../adapters/aws/approvals-commands'),
      import('../../adapters/aws/parking'),
    ]).then(([commands, aws]) => new commands.SqsApprovalCommandQueue(aws.createSqsClient(), this.queueUrl));
    const queue = await this.queue;
    return queue.submit(command);
  }
}

/**
 * The deployments table, where issues labelled incident are written (ADR 0099): the DynamoDB client is loaded on the
 * first issue delivery, as the queues are, so that a push's cold start does not pay for it. PutItem only.
 */
class LazyDynamoIncidentSink implements IncidentSink {
  private store: Promise<IncidentSink> | null = null;

  public constructor(private readonly tableName: string) {}

  public async putIncident(incident: Incident): Promise<void> {
    this.store ??= import('../../adapters/aws/deployments-dynamodb').then(
      (aws) => new aws.DynamoDeploymentStore(this.tableName),
    );
    const store = await this.store;
    return store.putIncident(incident);
  }
}

const sfn = createSfnClient();
const workflow = new StepFunctionsWorkflowStarter(sfn, settings.stateMachineArn);

export const handler = createWebhookHandler({
  config: settings.config,
  secrets: secretSource(),
  workflow,
  parking: new LazySqsParkingQueue(),
  ...(settings.commandQueueUrl ? { commands: new LazySqsCommandQueue(settings.commandQueueUrl) } : {}),
  commits: commitResolver(),
  reruns: new StepFunctionsRerunStarter(sfn, settings.stateMachineArn, workflow),
  ...(settings.deploymentsTable ? { incidents: new LazyDynamoIncidentSink(settings.deploymentsTable) } : {}),
  maxBodyBytes: settings.maxBodyBytes,
  // The hand-off sources' secrets (POST /webhooks/generic, docs/adr/0100), cached like the webhook secret.
  ...(settings.handoffSecretId
    ? {
        handoffSecrets: new SecretsManagerHandoffSecrets(
          secretsManagerClient(),
          settings.handoffSecretId,
          DEFAULT_SECRET_TTL_SECONDS * 1000,
        ),
      }
    : {}),
  ...(settings.handoffArtifactsBucket ? { handoffArtifactsBucket: settings.handoffArtifactsBucket } : {}),
});
