/**
 * Names of the environment variables of the webhook and replay functions, and of the approval pages' sign-in. The
 * CDK constructs set them and each function's settings module reads them (ADR 0014): both import these names from
 * here. The other functions' names live in their areas' contracts, read the same way: `COORDINATION_ENV`
 * (core/coordination), `DEPLOY_ENVIRONMENT_VARIABLES` (core/deploy), `STATUS_ENV` (core/status), `APPROVAL_ENV`
 * (core/approval). Nowhere else is a variable named by a string literal.
 *
 * The AWS SDK's own variables are not here: its clients read the region (`AWS_REGION`, which Lambda sets), the
 * credentials and any endpoint override (`AWS_ENDPOINT_URL_SFN`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`,
 * `AWS_ENDPOINT_URL_SQS`, or `AWS_ENDPOINT_URL` for every service) themselves.
 */
export const ENV = {
  /** The pipeline configuration: a path to `stepline.config.json`, or the JSON document itself. */
  config: 'STEPLINE_CONFIG',
  /** ARN of the pipeline state machine that the webhook and replay functions start. */
  stateMachineArn: 'STATE_MACHINE_ARN',
  /**
   * Secrets Manager secret (name or ARN) that holds the webhook secrets. Its value is a plain string (the current
   * secret) or JSON: `{ "current": "...", "previous": "..." }`, optionally per provider
   * (`{ "github": { "current": "..." }, "gitlab": { ... } }`). See docs/adr/0004.
   */
  webhookSecretArn: 'WEBHOOK_SECRET_ARN',
  /** How long a secret read from Secrets Manager is cached, in seconds. Default 300. */
  webhookSecretTtlSeconds: 'WEBHOOK_SECRET_TTL_SECONDS',
  /** The webhook secret itself, for the local runtime and tests (used when WEBHOOK_SECRET_ARN is unset). */
  webhookSecret: 'WEBHOOK_SECRET',
  /** The secret being rotated out: deliveries signed with it are still accepted. */
  webhookSecretPrevious: 'WEBHOOK_SECRET_PREVIOUS',
  /** Largest webhook body accepted, in bytes. Default 4 MiB. */
  webhookMaxBodyBytes: 'WEBHOOK_MAX_BODY_BYTES',
  /** URL of the SQS queue where deliveries that could not be started are parked. */
  parkingQueueUrl: 'PARKING_QUEUE_URL',
  /** Powertools: the service name in every log line and the metrics dimension `service`. */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  /** Powertools: the CloudWatch namespace of the metrics. Default "Stepline". */
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Powertools: DEBUG, INFO, WARN or ERROR. */
  logLevel: 'POWERTOOLS_LOG_LEVEL',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/**
 * The approval pages' sign-in with the Git hosts (functions/approval, docs/adr/0037): per host, where its OAuth
 * endpoints and its API are (GitHub Enterprise, self-managed GitLab, and the stand-ins of the tests are only other
 * URLs), and the OAuth client: a Secrets Manager secret `{"clientId": "…", "clientSecret": "…"}` (AWS), or the
 * two values themselves (the local runtime, tests).
 */
export const SIGN_IN_ENV = {
  github: {
    /** Default `https://github.com` (`/login/oauth/authorize`, `/login/oauth/access_token`). */
    oauthUrl: 'STEPLINE_GITHUB_OAUTH_URL',
    /** Default `https://api.github.com` (`/user`, `/orgs/{org}/teams/{team}/memberships/{login}`). */
    apiUrl: 'STEPLINE_GITHUB_API_URL',
    credentialsSecret: 'STEPLINE_GITHUB_OAUTH_SECRET_ID',
    clientId: 'STEPLINE_GITHUB_OAUTH_CLIENT_ID',
    clientSecret: 'STEPLINE_GITHUB_OAUTH_CLIENT_SECRET',
  },
  gitlab: {
    /** Default `https://gitlab.com` (`/oauth/authorize`, `/oauth/token`). */
    oauthUrl: 'STEPLINE_GITLAB_OAUTH_URL',
    /** Default `https://gitlab.com/api/v4` (`/user`, `/groups/{group}/members/all/{id}`). */
    apiUrl: 'STEPLINE_GITLAB_API_URL',
    credentialsSecret: 'STEPLINE_GITLAB_OAUTH_SECRET_ID',
    clientId: 'STEPLINE_GITLAB_OAUTH_CLIENT_ID',
    clientSecret: 'STEPLINE_GITLAB_OAUTH_CLIENT_SECRET',
  },
  bitbucket: {
    /** Default `https://bitbucket.org` (`/site/oauth2/authorize`, `/site/oauth2/access_token`). */
    oauthUrl: 'STEPLINE_BITBUCKET_OAUTH_URL',
    /** Default `https://api.bitbucket.org/2.0` (`/user`, `/workspaces/{workspace}/members/{uuid}`). */
    apiUrl: 'STEPLINE_BITBUCKET_API_URL',
    credentialsSecret: 'STEPLINE_BITBUCKET_OAUTH_SECRET_ID',
    clientId: 'STEPLINE_BITBUCKET_OAUTH_CLIENT_ID',
    clientSecret: 'STEPLINE_BITBUCKET_OAUTH_CLIENT_SECRET',
  },
} as const;
