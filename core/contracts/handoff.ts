/**
 * The hand-off endpoint's contract (docs/adr/0100): another CI built the image, and asks Stepline to deploy it. The
 * HTTP API (infra), the local server, `stepline deploy` and the README's `curl` all follow this module.
 */

/** The route: literal, so that it takes precedence over `POST /webhooks/{provider}` on API Gateway. */
export const HANDOFF_ROUTE = 'POST /webhooks/generic';
export const HANDOFF_PATH = '/webhooks/generic';
/** The path segment `{provider}` takes for the hand-off, where the route is matched by the provider route. */
export const HANDOFF_PROVIDER = 'generic';

/** The headers of a hand-off, as `stepline deploy` sends them. */
export const HANDOFF_HEADERS = {
  /** The source's name, as configured under `handoffs.sources`: it names the secret the body is signed with. */
  source: 'X-Stepline-Source',
  /** A unique id per hand-off, the same when the sender retries it: a retry starts nothing new. */
  delivery: 'X-Stepline-Delivery',
  /** `sha256=` and the hex HMAC-SHA256 of the raw body under the source's secret. */
  signature: 'X-Stepline-Signature-256',
} as const;

/** The environment variables of the webhook function for hand-offs (set by infra/constructs/WebhookIntake). */
export const HANDOFF_ENV = {
  /**
   * Secrets Manager secret (name or ARN) holding each source's secret: JSON `{ "<source>": "<secret>" }` or
   * `{ "<source>": { "current": "...", "previous": "..." } }` while rotating. Unset: every hand-off is refused 401.
   */
  secretArn: 'HANDOFF_SECRET_ARN',
  /**
   * The artifacts bucket's name, which CloudFormation generates: `{artifactsBucket}` in a source's `manifests` and
   * `defaultManifests` stands for it (the deploy function reads manifests from that bucket only).
   */
  artifactsBucket: 'HANDOFF_ARTIFACTS_BUCKET',
} as const;

/** The placeholder for the artifacts bucket in `handoffs.sources.*.manifests` and `defaultManifests`. */
export const ARTIFACTS_BUCKET_PLACEHOLDER = '{artifactsBucket}';

/** The body of a hand-off, as JSON. */
export interface HandoffPayload {
  /** The repository's full name, as configured under `repositories` (`acme/shop`). */
  readonly repository: string;
  /** Its Git host, where two configured repositories share the name. */
  readonly provider?: string;
  /** The full commit SHA the image was built from (40 or 64 hex digits). */
  readonly commit: string;
  /** `refs/heads/main`, `refs/tags/v1.2.0`, or a branch's short name. */
  readonly ref: string;
  /** The image by digest: `REPOSITORY@sha256:<64 hex>`, no tag. */
  readonly image: string;
  /** Where the rendered manifests are (`s3://…` or `file:///…`); default: the source's `defaultManifests`. */
  readonly manifests?: string;
  /** Environments to promote to, in order; default: those the ref promotes to, among those the source may. */
  readonly environments?: readonly string[];
  /** Whether to run the repository's test suites before promoting. Default false. */
  readonly tests?: boolean;
  /** The clone URL the test suites check out; default the Git host's `https://<host>/<repository>.git`. */
  readonly cloneUrl?: string;
  /** The other CI's build page: the build context links it. */
  readonly buildUrl?: string;
}

/** Why a hand-off was refused (the `error` field), beside the webhook's own codes. */
export type HandoffRejectCode =
  | 'image_not_by_digest'
  | 'registry_not_allowed'
  | 'repository_not_allowed'
  | 'environment_not_allowed'
  | 'manifests_not_allowed';
