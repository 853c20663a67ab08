import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { APPROVAL_ENV } from '../core/approval/contracts';
import { readConfigJson } from '../core/config/json';
import { validateConfig } from '../core/config/parse';
import type { SteplineConfig } from '../core/config/schema';
import { isSealedConfigDocument, openSealedConfig } from '../core/config/sealed';
import { ENV } from '../core/contracts/environment';
import { HANDOFF_ENV } from '../core/contracts/handoff';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_SECRET_TTL_SECONDS } from '../core/contracts/webhook';
import { ConfigError } from '../core/errors';
import { INSIGHT_ENV } from '../core/insight/contracts';
import {
  type GitHostOptions,
  type GitHostTokenSettings,
  gitHostApiUrlsFromEnv,
  gitHostTokensFromEnv,
} from './githost/settings';

/**
 * The one module that reads the environment. Each function calls the reader for its settings once, at cold start;
 * anything missing or invalid throws a `ConfigError` that names the variable (or the configuration field) and the
 * reason, so a misconfigured function fails at start instead of on its first delivery.
 */

export type Environment = Readonly<Record<string, string | undefined>>;

function fail(variable: string, reason: string): never {
  throw new ConfigError(`${variable}: ${reason}`, [{ path: variable, message: reason }]);
}

function optional(env: Environment, variable: string): string | null {
  const value = env[variable]?.trim();
  return value ? value : null;
}

function required(env: Environment, variable: string, what: string): string {
  return optional(env, variable) ?? fail(variable, `is not set; it must hold ${what}`);
}

function positiveInteger(env: Environment, variable: string, fallback: number): number {
  const value = optional(env, variable);
  if (value === null) return fallback;
  if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
    fail(variable, `must be a positive whole number, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return Number(value);
}

function url(env: Environment, variable: string): string | null {
  const value = optional(env, variable);
  if (value === null) return null;
  try {
    new URL(value);
  } catch {
    fail(variable, `must be a URL such as http://127.0.0.1:8080, got ${JSON.stringify(value.slice(0, 80))}`);
  }
  return value;
}

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

function stateMachineArn(env: Environment): string {
  const value = required(env, ENV.stateMachineArn, 'the ARN of the pipeline state machine');
  if (!STATE_MACHINE_ARN.test(value)) {
    fail(ENV.stateMachineArn, `must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)`);
  }
  return value;
}

/**
 * Loads the pipeline configuration from `STEPLINE_CONFIG`: inline JSON when it starts with `{`, else a path
 * (relative to `cwd`). Throws a `ConfigError` naming the field and the reason when the document is invalid.
 *
 * A sealed document (core/config/sealed.ts, what the CDK construct bundles) whose digest matches is used as it is:
 * it was validated when it was sealed. Anything else is validated here with the zod schema. In the webhook's
 * bundle the parser (zod and the schema) is a file of its own that this import loads on first use only
 * (functions/webhook/bundle.ts), so that a function given a sealed configuration never evaluates zod
 * (docs/adr/0046).
 */
export function loadPipelineConfig(env: Environment = process.env, cwd: string = process.cwd()): SteplineConfig {
  const value = required(env, ENV.config, 'a path to stepline.config.json or the JSON document itself');
  if (value.startsWith('{')) return configFrom(value, `${ENV.config} (inline JSON)`);
  const path = isAbsolute(value) ? value : resolve(cwd, value);
  if (!existsSync(path)) fail(ENV.config, `names ${path}, which does not exist`);
  return configFrom(readFileSync(path, 'utf8'), path);
}

function configFrom(text: string, source: string): SteplineConfig {
  const document = readConfigJson(text, source);
  const sealed = openSealedConfig(document);
  if (sealed !== null) return sealed;
  if (isSealedConfigDocument(document)) {
    return validateConfig(document.config, `${source} (sealed, but its digest does not match its configuration)`);
  }
  return validateConfig(document, source);
}

/** Where the webhook secrets come from. */
export type SecretSettings =
  | { readonly kind: 'secrets-manager'; readonly secretId: string; readonly ttlSeconds: number }
  | { readonly kind: 'static'; readonly current: string; readonly previous: string | null };

/**
 * The functions' AWS clients take their region, credentials and any endpoint override from the environment as the
 * SDK reads them (`AWS_REGION`, `AWS_ENDPOINT_URL_SFN`, ...): none of those is a setting here.
 */
export interface WebhookSettings {
  readonly config: SteplineConfig;
  readonly stateMachineArn: string;
  readonly secrets: SecretSettings;
  readonly maxBodyBytes: number;
  readonly parkingQueueUrl: string;
  /** The queue comment commands (`/approve`, `/reject`) go to; null: comment events start nothing. */
  readonly commandQueueUrl: string | null;
  /** How an abbreviated commit (a Bitbucket pull request's) is asked of its Git host (docs/adr/0090). */
  readonly commits: CommitLookupSettings;
  /** The hand-off sources' secret (`HANDOFF_SECRET_ARN`, docs/adr/0100); null: every hand-off is refused 401. */
  readonly handoffSecretId: string | null;
  /** The artifacts bucket's name (`HANDOFF_ARTIFACTS_BUCKET`), for `{artifactsBucket}` in hand-off locations. */
  readonly handoffArtifactsBucket: string | null;
  /** The deployments table (`STEPLINE_DEPLOYMENTS_TABLE`) issues labelled incident go to; null: none (ADR 0099). */
  readonly deploymentsTable: string | null;
}

/**
 * What the webhook needs to ask a Git host for a full commit: the hosts' API URLs (the status functions' variables,
 * `STATUS_ENV`), the intake's time budget, and the Git host tokens, from the status functions' secret.
 */
export interface CommitLookupSettings {
  /** For `gitHostSettings` (adapters/githost/settings.ts). */
  readonly gitHost: GitHostOptions;
  /** The tokens secret (ARN or name) the status functions read too; else the values in the environment. */
  readonly tokens: GitHostTokenSettings;
}

/**
 * The Git host's share of a delivery's 10 s (Bitbucket Cloud times a webhook out after 10 s and sends it again up to
 * twice on a 5xx: "Troubleshoot webhooks", support.atlassian.com): 3 s per try, one more try, no wait over 1 s for a
 * rate limit. At worst about 7 s, and the delivery is answered 503 for the host to send it again; the status
 * functions' own budget (5 s, 3 more tries, waits up to 20 s) would outlast the host's patience.
 */
export const INTAKE_GITHOST_BUDGET = { timeoutMs: 3000, retries: 1, maxWaitMs: 1000 } as const;

/** The Git host variables as the status functions read them (adapters/githost/settings.ts), the intake's budget. */
function commitLookupSettings(env: Environment): CommitLookupSettings {
  return {
    gitHost: { baseUrls: gitHostApiUrlsFromEnv(env), ...INTAKE_GITHOST_BUDGET },
    tokens: gitHostTokensFromEnv(env),
  };
}

function secretSettings(env: Environment): SecretSettings {
  const secretId = optional(env, ENV.webhookSecretArn);
  if (secretId !== null) {
    return {
      kind: 'secrets-manager',
      secretId,
      ttlSeconds: positiveInteger(env, ENV.webhookSecretTtlSeconds, DEFAULT_SECRET_TTL_SECONDS),
    };
  }
  const current = optional(env, ENV.webhookSecret);
  if (current === null) {
    fail(
      ENV.webhookSecretArn,
      `is not set, and neither is ${ENV.webhookSecret}: one of them must give the webhook secret`,
    );
  }
  return { kind: 'static', current, previous: optional(env, ENV.webhookSecretPrevious) };
}

/** Settings of the webhook function on AWS. */
export function webhookSettings(env: Environment = process.env, cwd: string = process.cwd()): WebhookSettings {
  return {
    config: loadPipelineConfig(env, cwd),
    stateMachineArn: stateMachineArn(env),
    secrets: secretSettings(env),
    maxBodyBytes: positiveInteger(env, ENV.webhookMaxBodyBytes, DEFAULT_MAX_BODY_BYTES),
    parkingQueueUrl:
      url(env, ENV.parkingQueueUrl) ??
      fail(ENV.parkingQueueUrl, 'is not set; it must hold the URL of the parking queue'),
    commandQueueUrl: url(env, APPROVAL_ENV.commandQueueUrl),
    commits: commitLookupSettings(env),
    handoffSecretId: optional(env, HANDOFF_ENV.secretArn),
    handoffArtifactsBucket: optional(env, HANDOFF_ENV.artifactsBucket),
    deploymentsTable: optional(env, INSIGHT_ENV.table),
  };
}
