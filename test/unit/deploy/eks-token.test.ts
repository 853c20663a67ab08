import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createEksToken,
  EksTokenCache,
  type EksTokenRequest,
  TOKEN_LIFETIME_MS,
} from '../../../adapters/kubernetes/token';

const CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token+/=',
};
const SIGNED_AT = new Date('2024-05-06T07:08:09Z');

function decode(token: string): URL {
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
}

/** An independent SigV4 check of a presigned GET with the signed headers host and x-k8s-aws-id. */
function expectedSignature(url: URL, cluster: string, secret: string): string {
  const params = [...url.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  const rfc3986 = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonical = [
    'GET',
    '/',
    query,
    `host:${url.host}`,
    `x-k8s-aws-id:${cluster}`,
    '',
    'host;x-k8s-aws-id',
    createHash('sha256').update('').digest('hex'),
  ].join('\n');
  const date = url.searchParams.get('X-Amz-Date')!;
  const scope = url.searchParams.get('X-Amz-Credential')!.split('/').slice(1).join('/');
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const [day, region, service] = scope.split('/');
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(day!).digest();
  for (const part of [region!, service!, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex');
}

describe('createEksToken', () => {
  it('is k8s-aws-v1. and a presigned STS GetCallerIdentity URL in base64url without padding', async () => {
    // Act
    const { token } = await createEksToken({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      signingDate: SIGNED_AT,
    });

    // Assess
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token.slice(11)).toMatch(/^[A-Za-z0-9_-]+$/);
    const url = decode(token);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20240506T070809Z');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIAIOSFODNN7EXAMPLE/20240506/eu-west-1/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('session-token+/=');
  });

  it('signs the cluster name into the URL, so the token is only good for that cluster', async () => {
    // Act
    const { token } = await createEksToken({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      signingDate: SIGNED_AT,
    });
    const url = decode(token);

    // Assess
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, 'prod', CREDENTIALS.secretAccessKey));
    expect(url.searchParams.get('X-Amz-Signature')).not.toBe(
      expectedSignature(url, 'staging', CREDENTIALS.secretAccessKey),
    );
  });

  it("uses the China partition's STS host in cn- regions", async () => {
    // Act
    const { token } = await createEksToken({
      clusterName: 'prod',
      region: 'cn-north-1',
      credentials: CREDENTIALS,
      signingDate: SIGNED_AT,
    });

    // Assess
    expect(decode(token).host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });
});

describe('EksTokenCache', () => {
  it('reuses a token for 14 minutes, then signs a new one', async () => {
    // Prepare
    let now = SIGNED_AT.getTime();
    const signed: Date[] = [];
    const cache = new EksTokenCache(
      async (request: EksTokenRequest) => {
        signed.push(request.signingDate!);
        return createEksToken(request);
      },
      () => new Date(now),
    );
    const request = { clusterName: 'prod', region: 'eu-west-1', credentials: CREDENTIALS };

    // Act
    const first = await cache.get(request);
    now += TOKEN_LIFETIME_MS - 1000;
    const reused = await cache.get(request);
    const other = await cache.get({ ...request, clusterName: 'staging' });
    now += 2000;
    const renewed = await cache.get(request);

    // Assess
    expect(TOKEN_LIFETIME_MS).toBe(14 * 60 * 1000);
    expect(reused).toBe(first);
    expect(other).not.toBe(first);
    expect(renewed).not.toBe(first);
    expect(signed).toHaveLength(3);
  });
});
