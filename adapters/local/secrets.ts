/** Webhook secrets given directly (the local runtime's `WEBHOOK_SECRET`): the pure class lives in core/intake. */
export { StaticWebhookSecrets } from '../../core/intake/secrets';
