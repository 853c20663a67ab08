import type { Provider } from '../config/schema';
import type { HandoffRejectCode } from './handoff';

/**
 * The webhook endpoint's contract: its route, its limits and the JSON bodies it answers with. The HTTP API
 * (infra), the local server and the Git host documentation in the README all follow this module.
 */

/** The HTTP API route of the webhook function; `{provider}` is one of `PROVIDERS`. */
export const WEBHOOK_ROUTE = 'POST /webhooks/{provider}';
export const WEBHOOK_PATH_PARAMETER = 'provider';

/** Default largest body, in bytes (4 MiB): GitHub push payloads with many commits run to a few MB. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Default time a secret read from Secrets Manager is cached. */
export const DEFAULT_SECRET_TTL_SECONDS = 300;

/** Why a request was refused: the `error` field of a 4xx answer and the `reason` dimension of `rejected`. */
export type RejectCode =
  | 'unknown_provider'
  | 'body_too_large'
  | 'missing_header'
  | 'unsupported_media_type'
  | 'invalid_signature'
  | 'malformed_body'
  | HandoffRejectCode;

/** Why a verified delivery starts nothing (202 `ignored` / `skipped`). */
export type IgnoreCode =
  | 'event_not_handled'
  | 'ref_deleted'
  | 'repository_not_configured'
  | 'ref_not_configured'
  | 'pull_requests_not_configured'
  | 'pull_request_action_not_configured'
  | 'pull_request_closed'
  | 'base_branch_not_configured'
  | 'paths_unchanged'
  /** An issue event whose issue is not labelled `incident` (or a host without labels): nothing written. */
  | 'not_an_incident';

/** The bodies the webhook endpoint answers with, by `status`. */
export type WebhookResponseBody =
  | { readonly status: 'started'; readonly executionArn: string; readonly name: string }
  | { readonly status: 'duplicate'; readonly duplicate: true; readonly executionArn: string; readonly name: string }
  | { readonly status: 'queued'; readonly name: string; readonly message: string }
  | { readonly status: 'ignored'; readonly code: IgnoreCode; readonly reason: string }
  | {
      readonly status: 'skipped';
      readonly code: 'paths_unchanged';
      readonly reason: string;
      /** The commit status contexts the run would have reported (see `statusContexts`). */
      readonly contexts: readonly string[];
      /** The short execution that marks those contexts skipped on the commit (absent only if none started). */
      readonly executionArn?: string;
      readonly name?: string;
    }
  | { readonly status: 'pong'; readonly provider: Provider }
  /** A comment command (`/approve`, `/reject`), passed on to be decided; the answer comes as a reply comment. */
  | { readonly status: 'command'; readonly command: 'approve' | 'reject'; readonly environment: string }
  /**
   * An issue labelled `incident`, written to the deployments store (ADR 0099): `open`, or `resolved` once closed;
   * `withdrawn` when the event removed the label (ADR 0112: kept, and left out of the four keys until labelled again).
   */
  | {
      readonly status: 'incident recorded';
      readonly incident: string;
      readonly state: 'open' | 'resolved' | 'withdrawn';
    }
  /** One delivery that reported several refs (Bitbucket): one result per ref. */
  | { readonly status: 'multiple'; readonly results: readonly WebhookResponseBody[] }
  | { readonly error: RejectCode | 'unavailable' | 'internal'; readonly message: string };
