import type { Provider } from '../../core/config/schema';
import { ConfigError } from '../../core/errors';
import { STATUS_ENV } from '../../core/status/contracts';
import type { HostTransport } from '../../core/status/hosts';
import { ConsoleLinks } from '../../core/status/links';
import { DEFAULT_CONTEXT_PREFIX } from '../../core/status/plan';
import { GitHubAppTransport } from './github-app';
import { DEFAULT_BASE_URLS, type HostLog, HttpHostTransport } from './http';
import type { TokenSource, TokenValues } from './tokens';

/**
 * The status functions' settings for the Git hosts, and the per-provider transports built from them. Every reader of
 * the Git host variables (`STATUS_ENV`: the status functions, functions/status/settings.ts; the webhook's commit
 * lookups, adapters/settings.ts; the deploy functions' GitOps writes, functions/deploy/settings.ts; the local
 * runtime, local/runtime/githost.ts) reads them with the functions of "The Git host variables" below; the defaults
 * are here, once.
 */
export interface GitHostSettings {
  readonly baseUrls: Readonly<Record<Provider, string>>;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly maxWaitMs: number;
  readonly contextPrefix: string;
  readonly links: ConsoleLinks | null;
}

/** Where the status links point: the AWS console (in a region; no links without one) or the local console. */
export type ConsoleSetting =
  | { readonly kind: 'aws'; readonly region: string | null }
  | { readonly kind: 'local'; readonly baseUrl: string };

/** What a reader found; anything left out takes its default. */
export interface GitHostOptions {
  readonly console?: ConsoleSetting;
  readonly baseUrls?: Partial<Record<Provider, string>>;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly maxWaitMs?: number;
  readonly contextPrefix?: string;
  /** The base URL of the platform's redirect route to runs (see `ConsoleLinks`); unset: no short links. */
  readonly runLinkUrl?: string | null;
}

export const GITHOST_DEFAULTS = {
  timeoutMs: 5000,
  retries: 3,
  maxWaitMs: 20_000,
  localConsoleUrl: 'http://127.0.0.1:8080',
} as const;

// The Git host variables -------------------------------------------------------------------------------------------

export type Environment = Readonly<Record<string, string | undefined>>;

/** Where the Git host tokens come from: the Secrets Manager secret (AWS), else the values in the environment. */
export type GitHostTokenSettings = { readonly secretId: string } | { readonly values: TokenValues };

/** Each host's API base URL variable (ADR 0117 sets them on AWS). */
const API_URL_VARIABLES: Readonly<Record<Provider, string>> = {
  github: STATUS_ENV.githubApiUrl,
  gitlab: STATUS_ENV.gitlabApiUrl,
  bitbucket: STATUS_ENV.bitbucketApiUrl,
};

function invalid(variable: string, reason: string): never {
  throw new ConfigError(`${variable}: ${reason}`, [{ path: variable, message: reason }]);
}

/** A value as a message may show it: quoted, a long one cut (a token put in the wrong variable is never shown). */
function quote(value: string): string {
  return JSON.stringify(value.length > 24 ? `${value.slice(0, 8)}…` : value);
}

function variable(env: Environment, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

/** An absolute http(s) URL without a trailing slash, or null when unset (the tokens are sent there). */
function urlVariable(env: Environment, name: string): string | null {
  const value = variable(env, name);
  if (value === null) return null;
  let parsed: URL | null = null;
  try {
    parsed = new URL(value);
  } catch {
    parsed = null;
  }
  if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    invalid(name, `must be an http(s) URL such as https://api.github.com, got ${quote(value)}`);
  }
  return value.replace(/\/+$/, '');
}

function wholeNumberVariable(env: Environment, name: string, min: number): number | undefined {
  const value = variable(env, name);
  if (value === null) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    invalid(name, `must be a whole number of at least ${min}, got ${quote(value)}`);
  }
  return n;
}

/**
 * The hosts' API base URLs (`STEPLINE_GITHUB_API_URL`, `STEPLINE_GITLAB_API_URL`, `STEPLINE_BITBUCKET_API_URL`): only
 * the hosts whose variable is set, each an http(s) URL without a trailing slash. Throws a `ConfigError` naming the
 * variable that is not such a URL.
 */
export function gitHostApiUrlsFromEnv(env: Environment): Partial<Record<Provider, string>> {
  const urls: Partial<Record<Provider, string>> = {};
  for (const [provider, name] of Object.entries(API_URL_VARIABLES) as [Provider, string][]) {
    const value = urlVariable(env, name);
    if (value !== null) urls[provider] = value;
  }
  return urls;
}

/**
 * The API base URLs and the HTTP client's budget (`STEPLINE_GITHOST_TIMEOUT_MS`, at least 1;
 * `STEPLINE_GITHOST_RETRIES`, `STEPLINE_GITHOST_MAX_WAIT_MS`), and the context prefix, for `gitHostSettings`: what is
 * unset is left out (the defaults apply). A `ConfigError` names an invalid variable.
 */
export function gitHostOptionsFromEnv(
  env: Environment,
): Pick<GitHostOptions, 'baseUrls' | 'timeoutMs' | 'retries' | 'maxWaitMs' | 'contextPrefix'> {
  const baseUrls = gitHostApiUrlsFromEnv(env);
  const timeoutMs = wholeNumberVariable(env, STATUS_ENV.httpTimeoutMs, 1);
  const retries = wholeNumberVariable(env, STATUS_ENV.httpRetries, 0);
  const maxWaitMs = wholeNumberVariable(env, STATUS_ENV.maxRetryWaitMs, 0);
  const contextPrefix = variable(env, STATUS_ENV.contextPrefix);
  return {
    baseUrls,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(maxWaitMs !== undefined ? { maxWaitMs } : {}),
    ...(contextPrefix !== null ? { contextPrefix } : {}),
  };
}

/** The platform's run-link route (`STEPLINE_RUN_LINK_URL`), an http(s) URL without a trailing slash, or null. */
export function runLinkUrlFromEnv(env: Environment): string | null {
  return urlVariable(env, STATUS_ENV.runLinkUrl);
}

/** The Git host tokens secret (`STEPLINE_GITHOST_TOKENS_SECRET`, an ARN or a name), or null. */
export function tokensSecretFromEnv(env: Environment): string | null {
  return variable(env, STATUS_ENV.tokensSecret);
}

/** The tokens given in the environment itself (the local runtime, tests): unset ones are null. */
export function tokenValuesFromEnv(env: Environment): TokenValues {
  return {
    github: variable(env, STATUS_ENV.githubToken),
    gitlab: variable(env, STATUS_ENV.gitlabToken),
    bitbucket: variable(env, STATUS_ENV.bitbucketToken),
    bitbucketUsername: variable(env, STATUS_ENV.bitbucketUsername),
    bitbucketAppPassword: variable(env, STATUS_ENV.bitbucketAppPassword),
    githubAppId: variable(env, STATUS_ENV.githubAppId),
    githubAppPrivateKey: variable(env, STATUS_ENV.githubAppPrivateKey),
  };
}

/** The tokens secret when one is named (its values are the tokens then), else the tokens in the environment. */
export function gitHostTokensFromEnv(env: Environment): GitHostTokenSettings {
  const secretId = tokensSecretFromEnv(env);
  return secretId ? { secretId } : { values: tokenValuesFromEnv(env) };
}

// The settings ------------------------------------------------------------------------------------------------------

/** The settings, with the defaults for what `options` leaves out. */
export function gitHostSettings(options: GitHostOptions = {}): GitHostSettings {
  const consoleSetting = options.console ?? { kind: 'aws', region: null };
  const linkOptions = { runLinkBaseUrl: options.runLinkUrl ?? null };
  const links =
    consoleSetting.kind === 'local'
      ? new ConsoleLinks({ kind: 'local', baseUrl: consoleSetting.baseUrl }, linkOptions)
      : consoleSetting.region
        ? new ConsoleLinks({ kind: 'aws', region: consoleSetting.region }, linkOptions)
        : null;
  return {
    baseUrls: {
      github: options.baseUrls?.github || DEFAULT_BASE_URLS.github,
      gitlab: options.baseUrls?.gitlab || DEFAULT_BASE_URLS.gitlab,
      bitbucket: options.baseUrls?.bitbucket || DEFAULT_BASE_URLS.bitbucket,
    },
    timeoutMs: options.timeoutMs ?? GITHOST_DEFAULTS.timeoutMs,
    retries: options.retries ?? GITHOST_DEFAULTS.retries,
    maxWaitMs: options.maxWaitMs ?? GITHOST_DEFAULTS.maxWaitMs,
    contextPrefix: options.contextPrefix || DEFAULT_CONTEXT_PREFIX,
    links,
  };
}

/** Builds the transport of a provider, or null when it has no credential. */
export async function transportFor(
  provider: Provider,
  settings: GitHostSettings,
  tokens: TokenSource,
  extra: { readonly log?: HostLog; readonly sleep?: (ms: number) => Promise<void>; readonly fetch?: typeof fetch } = {},
): Promise<HostTransport | null> {
  const credential = await tokens.credential(provider);
  if (!credential) return null;
  if (credential.scheme === 'github-app') {
    return new GitHubAppTransport({
      appId: credential.appId,
      privateKey: credential.privateKey,
      baseUrl: settings.baseUrls.github,
      timeoutMs: settings.timeoutMs,
      retries: settings.retries,
      maxWaitMs: settings.maxWaitMs,
      ...extra,
    });
  }
  return new HttpHostTransport({
    provider,
    baseUrl: settings.baseUrls[provider],
    credential,
    timeoutMs: settings.timeoutMs,
    retries: settings.retries,
    maxWaitMs: settings.maxWaitMs,
    ...extra,
  });
}
