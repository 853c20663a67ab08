import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsUnavailableError } from '../../core/intake/errors';
import type { HandoffSecretSource } from '../../core/intake/handoff/receive';
import { parseHandoffSecrets } from '../../core/intake/handoff/secrets';
import type { WebhookSecrets } from '../../core/intake/ports';
import { awsErrorName } from './errors';

/**
 * The hand-off sources' secrets from Secrets Manager (docs/adr/0100): JSON `{ "<source>": "<secret>" }` or
 * `{ "<source>": { "current": "...", "previous": "..." } }`, read once per TTL like the webhook secret
 * (adapters/aws/secrets.ts); a failed refresh keeps the value it had. Never logs a value.
 */
export class SecretsManagerHandoffSecrets implements HandoffSecretSource {
  private cached: { readonly value: ReadonlyMap<string, WebhookSecrets>; readonly expiresAt: number } | null = null;

  public constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  public async get(source: string): Promise<WebhookSecrets | null> {
    if (this.cached === null || this.now() >= this.cached.expiresAt) {
      try {
        this.cached = { value: await this.fetch(), expiresAt: this.now() + this.ttlMs };
      } catch (error) {
        if (this.cached === null) throw error;
      }
    }
    return this.cached.value.get(source) ?? null;
  }

  private async fetch(): Promise<ReadonlyMap<string, WebhookSecrets>> {
    let text: string | undefined;
    try {
      text = (await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }))).SecretString;
    } catch (error) {
      throw new SecretsUnavailableError(`could not read the hand-off secret ${this.secretId}: ${awsErrorName(error)}`, {
        cause: error,
      });
    }
    if (text === undefined)
      throw new SecretsUnavailableError(`the hand-off secret ${this.secretId} has no string value`);
    return parseHandoffSecrets(text, `secret ${this.secretId}`);
  }
}
