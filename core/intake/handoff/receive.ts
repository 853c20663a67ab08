import type { SteplineConfig } from '../../config/schema';
import { HANDOFF_HEADERS } from '../../contracts/handoff';
import { DEFAULT_MAX_BODY_BYTES } from '../../contracts/webhook';
import {
  bodyLength,
  decodeBody,
  lowercaseHeaders,
  mediaTypeOf,
  missingHeader,
  type RawDelivery,
  secretList,
  tooLarge,
  unsupportedMediaType,
} from '../delivery';
import { MalformedPayloadError, SecretsUnavailableError } from '../errors';
import type { Planned } from '../intake';
import { executionName } from '../name';
import type { ParkingQueue, WebhookSecrets, WorkflowStarter } from '../ports';
import { type Answer, answerStop, type DeliveryKeys, finish, type Receipt, start } from '../receive';
import { verifyHmacSha256 } from '../signature';
import type { ExecutionInput } from '../types';
import { INVALID_SIGNATURE, reject, type Stop } from '../verdict';
import { checkHandoff } from './check';
import { readHandoffBody } from './payload';

/**
 * A hand-off (`POST /webhooks/generic`, docs/adr/0100), start to finish, in the intake's order: admit the envelope
 * (size, headers, media type) → read the source's secret → verify the HMAC-SHA256 over the exact bytes → parse →
 * check against the source's configuration → start the run at its promotion (`prebuilt`: no build), through the
 * same starter and parking as a Git host's delivery: a retry with the same delivery id answers 200 duplicate, and
 * a start that fails is parked for a replay. Refusals are 4xx that name the field; never a body or secret logged.
 */

/** The secrets each hand-off source signs with. */
export interface HandoffSecretSource {
  /** Null when none is configured for it. Throws `SecretsUnavailableError` when the secrets cannot be read. */
  get(source: string): Promise<WebhookSecrets | null>;
}

export interface HandoffPorts {
  readonly secrets: HandoffSecretSource;
  readonly workflow: WorkflowStarter;
  readonly parking: ParkingQueue;
  readonly now?: () => Date;
  /** The artifacts bucket's name, for `{artifactsBucket}` in the sources' manifests locations (AWS). */
  readonly artifactsBucket?: string;
}

const SOURCE = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const DELIVERY = /^[\x21-\x7e]{1,200}$/;

function one(answer: Answer, keys: DeliveryKeys): Receipt {
  return finish(keys, [answer]);
}

export function planHandoff(
  config: SteplineConfig,
  source: string,
  deliveryId: string,
  body: unknown,
  artifactsBucket?: string,
): Planned | Answer {
  let parsed: ReturnType<typeof readHandoffBody>;
  try {
    parsed = readHandoffBody(body);
  } catch (error) {
    if (error instanceof MalformedPayloadError)
      return answerStop(reject(400, 'malformed_body', error.message), undefined);
    throw error;
  }
  const checked = checkHandoff(config, source, deliveryId, parsed, artifactsBucket);
  if (!checked.continue) return answerStop(checked, undefined);
  const { request, route, image, manifestsLocation } = checked.value;
  // Two sources may use the same delivery ids: the source is part of the name, so they never collide.
  const name = executionName({ ...request, deliveryId: `${source}-${deliveryId}` });
  const input: ExecutionInput = {
    request,
    route,
    // The build context is settled as built, linking the other CI's build when it gave one.
    prebuilt: {
      image,
      manifestsLocation,
      build: parsed.buildUrl === null ? null : { id: null, logUrl: parsed.buildUrl },
      tests: [],
      from: `handoff:${source}`,
    },
    handoff: { source, tests: parsed.tests },
  };
  return { name, input, inputJson: JSON.stringify(input) };
}

export async function receiveHandoff(
  config: SteplineConfig,
  raw: Omit<RawDelivery, 'provider'>,
  ports: HandoffPorts,
  maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
): Promise<Receipt> {
  const keys: DeliveryKeys = {};
  if ((raw.byteLength ?? bodyLength(raw.body)) > maxBodyBytes)
    return one(answerStop(tooLarge(maxBodyBytes) as Stop, undefined), keys);
  const headers = lowercaseHeaders(raw.headers);
  const source = headers.get(HANDOFF_HEADERS.source.toLowerCase())?.trim();
  if (!source) return one(answerStop(missingHeader(HANDOFF_HEADERS.source) as Stop, undefined), keys);
  const deliveryId = headers.get(HANDOFF_HEADERS.delivery.toLowerCase())?.trim();
  if (!deliveryId) return one(answerStop(missingHeader(HANDOFF_HEADERS.delivery) as Stop, undefined), keys);
  if (!DELIVERY.test(deliveryId)) {
    const bad = reject(400, 'malformed_body', `${HANDOFF_HEADERS.delivery}: 1-200 printable ASCII characters`);
    return one(answerStop(bad, undefined), keys);
  }
  keys.deliveryId = deliveryId;
  const mediaType = mediaTypeOf(headers.get('content-type'));
  if (mediaType !== 'application/json') {
    return one(answerStop(unsupportedMediaType(mediaType, ['application/json']) as Stop, undefined), keys);
  }

  let secrets: WebhookSecrets | null = null;
  if (SOURCE.test(source) && config.handoffs?.sources[source] !== undefined) {
    try {
      secrets = await ports.secrets.get(source);
    } catch (error) {
      if (!(error instanceof SecretsUnavailableError)) throw error;
      return one(
        {
          status: 503,
          body: { error: 'unavailable', message: 'the hand-off secrets cannot be read now; send it again later' },
          outcome: { kind: 'failed', detail: error.message },
        },
        keys,
      );
    }
  }
  // An unknown source, one without a secret, and a wrong signature get the same 401: no hint which.
  const signature = headers.get(HANDOFF_HEADERS.signature.toLowerCase());
  if (secrets === null || !verifyHmacSha256(signature, raw.body, secretList(secrets))) {
    const answer = answerStop(INVALID_SIGNATURE, undefined);
    // A header's value reaches the log only once it is known to be a configured source's name.
    const known = SOURCE.test(source) && config.handoffs?.sources[source] !== undefined;
    const detail = !known
      ? 'unknown hand-off source'
      : secrets === null
        ? `no hand-off secret is configured for source ${source}`
        : 'invalid signature';
    return one({ ...answer, outcome: { kind: 'rejected', code: 'invalid_signature', detail } }, keys);
  }

  const body = decodeBody(raw.body, 'application/json');
  if (!body.continue) return one(answerStop(body, undefined), keys);
  const planned = planHandoff(config, source, deliveryId, body.value, ports.artifactsBucket);
  if ('status' in planned) return one(planned, keys);
  keys.provider = planned.input.request.provider;
  keys.repository = planned.input.request.repository.fullName;
  keys.executionName = planned.name;
  return one(await start(planned, ports), keys);
}
