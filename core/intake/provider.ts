import type { Provider } from '../config/schema';
import type { Admitted, MediaType } from './delivery';
import type { WebhookSecrets } from './ports';
import type { PipelineRequest } from './types';
import type { Verdict } from './verdict';

/**
 * What each Git host's module provides (`github/`, `gitlab/`, `bitbucket/`): the headers and media types of its
 * deliveries, the signature check, and the normalization of a verified payload into pipeline requests.
 */
export interface ProviderIntake {
  readonly name: Provider;
  /** Header naming the event, as the host spells it (for messages). */
  readonly eventHeader: string;
  /** Header(s) carrying the delivery id, as the host spells them (for messages). */
  readonly deliveryHeaders: readonly string[];
  readonly mediaTypes: readonly MediaType[];
  /** The delivery id from the (lowercased) headers; undefined when absent. */
  deliveryId(headers: ReadonlyMap<string, string>): string | undefined;
  /** Checks the signature over the exact bytes. Never parses the body. */
  verify(delivery: Admitted, secrets: WebhookSecrets | null): boolean;
  /**
   * Turns a verified, parsed payload into requests: one, or several when one delivery reports several refs
   * (Bitbucket's `repo:push`). Stops with pong, ignored (with the reason) or rejected (a malformed payload).
   */
  normalize(delivery: Admitted, payload: Record<string, unknown>): Verdict<readonly PipelineRequest[]>;
}
