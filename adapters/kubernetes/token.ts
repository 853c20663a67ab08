import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  Checksum,
  HttpRequest,
  SourceData,
} from '@smithy/types';

/**
 * The bearer token of an EKS cluster, made as `aws eks get-token` makes it: a SigV4-presigned URL of STS
 * `GetCallerIdentity` on the region's STS endpoint, with the header `x-k8s-aws-id: <cluster name>` signed (so
 * the token is only good for that cluster) and `X-Amz-Expires=60`, encoded as `k8s-aws-v1.` followed by the URL
 * in base64url without padding. EKS accepts such a token for 15 minutes from its signing; `EksTokenCache`
 * reuses one for 14.
 */

export const TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** How long a token is reused: a minute less than EKS accepts it. */
export const TOKEN_LIFETIME_MS = 14 * 60 * 1000;

/** SHA-256 (and HMAC-SHA-256 with a secret) on node:crypto, in the shape @smithy/signature-v4 wants. */
export class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;

  public constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }

  public update(data: Uint8Array): void {
    this.hash.update(toBuffer(data));
  }

  public async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  public reset(): void {
    this.hash = this.fresh();
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data as ArrayBuffer);
}

/** The STS endpoint host of a region: `sts.eu-west-1.amazonaws.com`, `sts.cn-north-1.amazonaws.com.cn`. */
export function stsHost(region: string): string {
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

/** RFC 3986 encoding, as SigV4 canonical query strings use. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface EksTokenRequest {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Default: now. */
  readonly signingDate?: Date;
}

export interface EksToken {
  readonly token: string;
  /** When Stepline stops using the token (14 minutes after signing). */
  readonly expiresAt: Date;
}

export async function createEksToken(request: EksTokenRequest): Promise<EksToken> {
  const signingDate = request.signingDate ?? new Date();
  const hostname = stsHost(request.region);
  const signer = new SignatureV4({
    credentials: request.credentials,
    region: request.region,
    service: 'sts',
    sha256: NodeSha256,
  });
  const unsigned: HttpRequest = {
    method: 'GET',
    protocol: 'https:',
    hostname,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: hostname, [CLUSTER_ID_HEADER]: request.clusterName },
  };
  const signed = await signer.presign(unsigned, { expiresIn: 60, signingDate });
  const query = Object.entries(signed.query ?? {})
    .map(([key, value]) => `${encode(key)}=${encode(String(value))}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return {
    token: `${TOKEN_PREFIX}${Buffer.from(url, 'utf8').toString('base64url')}`,
    expiresAt: new Date(signingDate.getTime() + TOKEN_LIFETIME_MS),
  };
}

/** Tokens by cluster and region, reused until 14 minutes after signing. */
export class EksTokenCache {
  private readonly tokens = new Map<string, EksToken>();

  public constructor(
    private readonly make: (request: EksTokenRequest) => Promise<EksToken> = createEksToken,
    private readonly now: () => Date = () => new Date(),
  ) {}

  public async get(request: Omit<EksTokenRequest, 'signingDate'>): Promise<string> {
    const key = `${request.region}/${request.clusterName}`;
    const cached = this.tokens.get(key);
    const now = this.now();
    if (cached && cached.expiresAt.getTime() > now.getTime()) return cached.token;
    const fresh = await this.make({ ...request, signingDate: now });
    this.tokens.set(key, fresh);
    return fresh.token;
  }
}
