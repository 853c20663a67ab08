import type { Provider } from '../../core/config/schema';
import { STATUS_ENV } from '../../core/status/contracts';
import type { HostTransport } from '../../core/status/hosts';
import { ConsoleLinks } from '../../core/status/links';
import { DEFAULT_CONTEXT_PREFIX } from '../../core/status/plan';
import { DEFAULT_BASE_URLS, type HostLog, HttpHostTransport } from './http';
import type { TokenSource } from './tokens';

/**
 * The status functions' settings, read from an environment record (each function passes `process.env` once, at
 * cold start), and the per-provider transports built from them.
 */
export interface GitHostSettings {
  readonly baseUrls: Readonly<Record<Provider, string>>;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly maxWaitMs: number;
  readonly contextPrefix: string;
  readonly links: ConsoleLinks | null;
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`${name} must be a whole number, got "${value}"`);
  return n;
}

export function gitHostSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): GitHostSettings {
  const kind = env[STATUS_ENV.consoleKind] ?? 'aws';
  let links: ConsoleLinks | null = null;
  if (kind === 'local') {
    links = new ConsoleLinks({ kind: 'local', baseUrl: env[STATUS_ENV.consoleUrl] ?? 'http://127.0.0.1:8080' });
  } else if (kind === 'aws') {
    const region = env[STATUS_ENV.region];
    links = region ? new ConsoleLinks({ kind: 'aws', region }) : null;
  } else {
    throw new TypeError(`${STATUS_ENV.consoleKind} must be "aws" or "local", got "${kind}"`);
  }
  return {
    baseUrls: {
      github: env[STATUS_ENV.githubApiUrl] || DEFAULT_BASE_URLS.github,
      gitlab: env[STATUS_ENV.gitlabApiUrl] || DEFAULT_BASE_URLS.gitlab,
      bitbucket: env[STATUS_ENV.bitbucketApiUrl] || DEFAULT_BASE_URLS.bitbucket,
    },
    timeoutMs: int(env[STATUS_ENV.httpTimeoutMs], 5000, STATUS_ENV.httpTimeoutMs),
    retries: int(env[STATUS_ENV.httpRetries], 3, STATUS_ENV.httpRetries),
    maxWaitMs: int(env[STATUS_ENV.maxRetryWaitMs], 20_000, STATUS_ENV.maxRetryWaitMs),
    contextPrefix: env[STATUS_ENV.contextPrefix] || DEFAULT_CONTEXT_PREFIX,
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
