/**
 * The webhook secret the local runtime verifies deliveries with: `WEBHOOK_SECRET` (or the `webhookSecret` option),
 * else one generated into the state folder. Set but empty, it is refused at start, as the AWS settings refuse it
 * (core/intake/secrets.ts): an empty HMAC key is one anyone can sign with (docs/adr/0089).
 */

/** `value` where it is a secret; undefined where it is not set; throws where it is set but empty (blanks count). */
export function checkWebhookSecret(value: string | undefined, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') {
    throw new Error(
      `${where} is set but empty: deliveries would be verified against an empty key, which anyone can sign with. Set a secret, or unset it to use the one generated into the state folder`,
    );
  }
  return value;
}
