import { createSqsClient, SqsParkingQueue } from '../../adapters/aws/parking';
import { createSecretsManagerClient, SecretsManagerWebhookSecrets } from '../../adapters/aws/secrets';
import { createSfnClient, StepFunctionsWorkflowStarter } from '../../adapters/aws/workflow';
import { StaticWebhookSecrets } from '../../adapters/local/secrets';
import { webhookSettings } from '../../adapters/settings';
import { createWebhookHandler } from './handler';

/**
 * The Lambda entry point. Settings are read once, at cold start: an invalid configuration fails the init with a
 * ConfigError that names the field, before any delivery is taken.
 */
const settings = webhookSettings();

const secrets =
  settings.secrets.kind === 'secrets-manager'
    ? new SecretsManagerWebhookSecrets(
        createSecretsManagerClient({ region: settings.region }),
        settings.secrets.secretId,
        settings.secrets.ttlSeconds * 1000,
      )
    : new StaticWebhookSecrets({ current: settings.secrets.current, previous: settings.secrets.previous });

export const handler = createWebhookHandler({
  config: settings.config,
  secrets,
  workflow: new StepFunctionsWorkflowStarter(
    createSfnClient({ region: settings.region, endpoint: settings.sfnEndpoint }),
    settings.stateMachineArn,
  ),
  parking: new SqsParkingQueue(createSqsClient({ region: settings.region }), settings.parkingQueueUrl),
  maxBodyBytes: settings.maxBodyBytes,
});
