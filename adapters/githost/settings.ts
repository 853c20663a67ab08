import type { Provider } from '../../core/config/schema';
import type { HostTransport } from '../../core/status/hosts';
import { ConsoleLinks } from '../../core/status/links';
import { DEFAULT_CONTEXT_PREFIX } from '../../core/status/plan';
import { GitHubAppTransport } from './github-app';
import { DEFAULT_BASE_URLS, type HostLog, HttpHostTransport } from './http';
import type { TokenSource } from './tokens';

/**
 * The status functions' settings for the Git hosts, and the per-provider transports built from them. The functions
 * read them from their environment (functions/status/settings.ts), the local runtime from its own; the defaults
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
