import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { NodeSha256 } from '../../adapters/kubernetes/token';
import type { AnalysisMetric } from '../../core/config/strategy';
import type { Measured, MetricProvider } from '../../core/deploy/analysis/contracts';
import { prometheusMeasurement } from '../../core/deploy/analysis/prometheus';

/**
 * The Prometheus provider: one instant query over HTTP (`GET <address>/api/v1/query?query=…`), bounded by the
 * metric's `timeoutSeconds`. With `sigv4`, the request is signed for Amazon Managed Prometheus (service `aps`,
 * "Query using Prometheus-compatible APIs" in the AMP guide; the role needs `aps:QueryMetrics` on the workspace).
 * Any failure (no answer, a timeout, an error status) is an error run; the query's text never reaches a log.
 */

export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<{
  status: number;
  text(): Promise<string>;
}>;

export interface PrometheusDeps {
  readonly fetch: FetchLike;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

export function prometheusProvider(deps: PrometheusDeps): MetricProvider {
  return {
    async measure(metric: AnalysisMetric): Promise<Measured> {
      if (!('prometheus' in metric.provider)) return { kind: 'error', message: 'not a Prometheus metric' };
      const { address, query, timeoutSeconds, sigv4 } = metric.provider.prometheus;
      const url = new URL(`${address.replace(/\/+$/, '')}/api/v1/query`);
      url.searchParams.set('query', query);
      try {
        const headers = sigv4 ? await signed(url, sigv4.region, deps.credentials) : {};
        const response = await deps.fetch(url.toString(), {
          headers,
          signal: AbortSignal.timeout(timeoutSeconds * 1000),
        });
        return prometheusMeasurement(response.status, await response.text());
      } catch (error) {
        const e = error as Error;
        const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
        return {
          kind: 'error',
          message: timedOut
            ? `Prometheus at ${url.host} did not answer within ${timeoutSeconds} s`
            : `Prometheus at ${url.host} could not be queried: ${e.message}`,
        };
      }
    },
  };
}

async function signed(
  url: URL,
  region: string,
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: 'aps', region, credentials, sha256: NodeSha256 });
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  const request = await signer.sign({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query,
    headers: { host: url.host },
  });
  return request.headers as Record<string, string>;
}
