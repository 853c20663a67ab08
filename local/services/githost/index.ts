import { type GitHostSettings, transportFor } from '../../../adapters/githost/settings';
import type { TokenSource } from '../../../adapters/githost/tokens';
import type { Provider } from '../../../core/config/schema';
import type { HostTransport } from '../../../core/status/hosts';
import { inProcessSinkFetch } from './in-process';
import { GitHostSink } from './sink';

export { localCommitResolver, localRepositoryOf } from './commits';
export { inProcessSinkFetch, SINK_ANSWER_HEADERS, SINK_BODY_LIMIT, sinkRequest } from './in-process';
export { GitHostSink, SINK_BASES, type SinkRequest, type SinkResponse } from './sink';

/** The credential sent to the local sink: it checks none, and this one is not a secret. */
export const SINK_CREDENTIAL = 'stepline-local-sink';

/**
 * Where each provider's statuses go: to the real host when a token is configured for it (at the configured or
 * default API URL), else to the local sink mounted at `sinkUrl`, with a placeholder credential. Given the `sink`
 * itself, the sink's URLs are answered in process (in-process.ts) by the same HTTP client, without a socket.
 */
export function sinkOrHostTransport(
  settings: GitHostSettings,
  tokens: TokenSource,
  sinkUrl: string,
  sink?: GitHostSink,
): (provider: Provider) => Promise<HostTransport | null> {
  const sinkSettings: GitHostSettings = {
    ...settings,
    baseUrls: {
      github: GitHostSink.baseUrl(sinkUrl, 'github'),
      gitlab: GitHostSink.baseUrl(sinkUrl, 'gitlab'),
      bitbucket: GitHostSink.baseUrl(sinkUrl, 'bitbucket'),
    },
    retries: 1,
  };
  const sinkTokens: TokenSource = {
    credential: async () => ({ scheme: 'bearer', token: SINK_CREDENTIAL }),
  };
  const sinkFetch = sink ? inProcessSinkFetch(sink, sinkUrl) : null;
  return async (provider) => {
    if (await tokens.credential(provider)) return transportFor(provider, settings, tokens);
    return transportFor(provider, sinkSettings, sinkTokens, sinkFetch ? { fetch: sinkFetch } : {});
  };
}
