import type { Provider, SteplineConfig } from '../config/schema';
import { DEFAULT_MAX_BODY_BYTES } from '../contracts/webhook';
import { bitbucket } from './bitbucket';
import {
  type Admitted,
  bodyLength,
  decodeBody,
  isProvider,
  lowercaseHeaders,
  type MediaType,
  mediaTypeOf,
  missingHeader,
  type RawDelivery,
  tooLarge,
  unknownProvider,
  unsupportedMediaType,
} from './delivery';
import { MalformedPayloadError } from './errors';
import { github } from './github';
import { gitlab } from './gitlab';
import { executionName } from './name';
import type { WebhookSecrets } from './ports';
import type { ProviderIntake } from './provider';
import { Router } from './route';
import type { ExecutionInput, PipelineRequest, Route } from './types';
import { INVALID_SIGNATURE, proceed, reject, type Stop, type Verdict } from './verdict';

/**
 * The intake, read top to bottom: admit the envelope (provider, size, headers, media type) → verify the signature
 * over the exact bytes → interpret (parse, then the provider's normalization) → plan (route, execution name).
 * Each step is a filter that continues or stops (see `Verdict`); nothing here does I/O.
 */

export const PROVIDER_INTAKES: Readonly<Record<Provider, ProviderIntake>> = { github, gitlab, bitbucket };

export interface IntakeOptions {
  /** Largest body accepted, in bytes; checked before anything is hashed. Default 4 MiB. */
  readonly maxBodyBytes?: number;
}

/** What a request turns into once routed: the execution to start. */
export interface Planned {
  readonly name: string;
  readonly input: ExecutionInput;
  /** `input` as JSON, as StartExecution takes it. */
  readonly inputJson: string;
  /** Set when the path filter skips the run: the execution only marks the route's contexts skipped. */
  readonly skipped?: {
    readonly code: 'paths_unchanged';
    readonly reason: string;
    readonly contexts: readonly string[];
  };
}

/** The JSON of each route, made once: the router hands out the same route object for every push to a ref. */
const ROUTE_JSON = new WeakMap<Route, string>();

function routeJson(route: Route): string {
  let json = ROUTE_JSON.get(route);
  if (json === undefined) {
    json = JSON.stringify(route);
    ROUTE_JSON.set(route, json);
  }
  return json;
}

export class Intake {
  public readonly maxBodyBytes: number;
  private readonly router: Router;

  /** The configuration it routes by (the incident path reads its repositories). */
  public constructor(
    public readonly config: SteplineConfig,
    options: IntakeOptions = {},
  ) {
    this.router = new Router(config);
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** The envelope checks, before any secret is read or byte hashed: 404, 413, 400 (missing header), 415. */
  public admit(raw: RawDelivery): Verdict<Admitted> {
    if (!isProvider(raw.provider)) return unknownProvider(raw.provider);
    if ((raw.byteLength ?? bodyLength(raw.body)) > this.maxBodyBytes) return tooLarge(this.maxBodyBytes);
    const intake = PROVIDER_INTAKES[raw.provider];
    const headers = lowercaseHeaders(raw.headers);
    const event = headers.get(intake.eventHeader.toLowerCase())?.trim();
    if (!event) return missingHeader(intake.eventHeader);
    const deliveryId = intake.deliveryId(headers)?.trim();
    if (!deliveryId) return missingHeader(intake.deliveryHeaders.join(' or '));
    const mediaType = mediaTypeOf(headers.get('content-type'));
    if (mediaType === null || !(intake.mediaTypes as readonly string[]).includes(mediaType)) {
      return unsupportedMediaType(mediaType, intake.mediaTypes);
    }
    return proceed({
      provider: raw.provider,
      headers,
      body: raw.body,
      mediaType: mediaType as MediaType,
      event,
      deliveryId,
    });
  }

  /** The signature check: 401, the same answer whatever is wrong. */
  public verify(delivery: Admitted, secrets: WebhookSecrets | null): Verdict<Admitted> {
    return PROVIDER_INTAKES[delivery.provider].verify(delivery, secrets) ? proceed(delivery) : INVALID_SIGNATURE;
  }

  /** Parses the verified body and normalizes it: 400 when malformed, pong, ignored, or the requests. */
  public interpret(delivery: Admitted): Verdict<readonly PipelineRequest[]> {
    const body = decodeBody(delivery.body, delivery.mediaType);
    if (!body.continue) return body;
    try {
      return PROVIDER_INTAKES[delivery.provider].normalize(delivery, body.value);
    } catch (error) {
      if (error instanceof MalformedPayloadError) return reject(400, 'malformed_body', error.message);
      throw error;
    }
  }

  /**
   * Routes a request and names its execution: ignored, or the execution to start. A run that the path filter
   * skips still starts a (short) execution that reports the route's contexts as skipped, so required checks on
   * the commit never wait for a run that will not come, and the skip shows in the execution history.
   */
  public plan(request: PipelineRequest): Verdict<Planned> {
    const decision = this.router.route(request);
    if (!decision.continue && decision.kind === 'skipped') {
      const { route, reason, contexts, code } = decision;
      return proceed({
        name: executionName(request),
        input: { request, route, skip: { reason } },
        inputJson: `{"request":${JSON.stringify(request)},"route":${routeJson(route)},"skip":${JSON.stringify({ reason })}}`,
        skipped: { code, reason, contexts },
      });
    }
    if (!decision.continue) return decision;
    const route = decision.value;
    return proceed({
      name: executionName(request),
      input: { request, route },
      inputJson: `{"request":${JSON.stringify(request)},"route":${routeJson(route)}}`,
    });
  }

  /** The whole of it for a delivery whose secrets are known: every step up to the executions to start. */
  public evaluate(raw: RawDelivery, secrets: WebhookSecrets | null): Verdict<readonly (Planned | Stop)[]> {
    const admitted = this.admit(raw);
    if (!admitted.continue) return admitted;
    const verified = this.verify(admitted.value, secrets);
    if (!verified.continue) return verified;
    const requests = this.interpret(verified.value);
    if (!requests.continue) return requests;
    return proceed(
      requests.value.map((request) => {
        const planned = this.plan(request);
        return planned.continue ? planned.value : planned;
      }),
    );
  }
}
