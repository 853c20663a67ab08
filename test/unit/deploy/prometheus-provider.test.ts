import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisMetric } from '../../../core/config/strategy';
import type { MeasureContext } from '../../../core/deploy/analysis/contracts';
import { prometheusProvider } from '../../../functions/analysis/prometheus';

/**
 * The Prometheus provider (ADR 0068) against an HTTP server of this test: the instant query it sends, SigV4 for
 * Amazon Managed Prometheus, and a Prometheus that does not answer in time, which is an error run.
 */

let server: Server;
let base: string;
const seen: IncomingMessage[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    if (req.url?.startsWith('/slow/')) return; // never answers
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.02'] }] },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const provider = prometheusProvider({
  fetch: (url, init) => fetch(url, init),
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
});

const metric = (address: string, extra: Record<string, unknown> = {}): AnalysisMetric => ({
  name: 'errors',
  provider: { prometheus: { address, query: 'sum(rate(errors[1m]))', timeoutSeconds: 1, ...extra } },
  successCondition: 'result[0] < 0.05',
});

const context = {} as MeasureContext;

describe('the Prometheus provider', () => {
  it('sends an instant query and gives the vector as its values', async () => {
    // Act
    const measured = await provider.measure(metric(`${base}/prometheus`), context);

    // Assess
    expect(measured).toEqual({ kind: 'value', result: [0.02] });
    expect(seen.at(-1)?.url).toBe('/prometheus/api/v1/query?query=sum%28rate%28errors%5B1m%5D%29%29');
    expect(seen.at(-1)?.headers['authorization']).toBeUndefined();
  });

  it('signs the query with SigV4 for Amazon Managed Prometheus (service aps)', async () => {
    // Act
    await provider.measure(metric(`${base}/workspaces/ws-1234abcd`, { sigv4: { region: 'eu-west-1' } }), context);

    // Assess
    expect(seen.at(-1)?.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/aps\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
  });

  it('gives a Prometheus that does not answer within timeoutSeconds as an error run', async () => {
    // Act
    const measured = await provider.measure(metric(`${base}/slow`), context);

    // Assess
    expect(measured).toEqual({
      kind: 'error',
      message: `Prometheus at ${new URL(base).host} did not answer within 1 s`,
    });
  });
});
