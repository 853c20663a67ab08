import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { NodeSha256 } from '../../adapters/kubernetes/token';
import { SteplineError } from '../../core/errors';

/**
 * SigV4 on the local AWS APIs, where the runtime listens beyond loopback (`--listen-public`, docs/adr/0087): a
 * request must be signed with the runtime's own key pair (generated once into the state folder). The signature is
 * checked by signing the request again with @smithy/signature-v4, as the SDK signed it: the same headers (those
 * the Authorization header lists), the same date, region and service (its credential scope), and the body's own
 * hash; then the two signatures are compared in constant time. The errors are AWS's common ones.
 */

export interface AwsKeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A new key pair, shaped as AWS's (`AKIA` and 16 characters; 40 characters of secret). */
export function generateKeyPair(): AwsKeyPair {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const id = [...randomBytes(16)].map((b) => alphabet[b % 32]).join('');
  return { accessKeyId: `AKIA${id}`, secretAccessKey: randomBytes(30).toString('base64') };
}

/** A refused signature: AWS's error code and status. */
export class SignatureError extends SteplineError {
  public constructor(
    public readonly code: string,
    public readonly status: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SignatureError';
  }
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
/** How far a request's date may be from now, as AWS allows. */
const MAX_SKEW_MS = 15 * 60 * 1000;

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Throws a SignatureError unless `req` with `body` is signed with `keys`. */
export async function verifySignature(
  req: IncomingMessage,
  body: Buffer,
  keys: AwsKeyPair,
  now: number = Date.now(),
): Promise<void> {
  const authorization = headerValue(req, 'authorization');
  if (!authorization) {
    throw new SignatureError(
      'MissingAuthenticationTokenException',
      403,
      "Missing Authentication Token: this runtime listens beyond loopback and takes only requests signed with its key pair (the state folder's aws-credentials)",
    );
  }
  const parsed = AUTHORIZATION.exec(authorization.trim());
  if (!parsed) throw new SignatureError('IncompleteSignatureException', 400, 'The Authorization header is not SigV4.');
  const [, accessKeyId, day, region, service, signedList, signature] = parsed as unknown as string[];
  if (accessKeyId !== keys.accessKeyId) {
    throw new SignatureError(
      'UnrecognizedClientException',
      403,
      'The security token included in the request is invalid.',
    );
  }
  const date = AMZ_DATE.exec(headerValue(req, 'x-amz-date') ?? '');
  if (!date || `${date[1]}${date[2]}${date[3]}` !== day) {
    throw new SignatureError('IncompleteSignatureException', 400, 'X-Amz-Date is missing or does not match the scope.');
  }
  const signingDate = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!));
  if (Math.abs(now - signingDate.getTime()) > MAX_SKEW_MS) {
    throw new SignatureError(
      'InvalidSignatureException',
      400,
      'Signature expired: the request is more than 15 minutes from now.',
    );
  }
  const signed = (signedList as string).split(';');
  if (!signed.includes('host'))
    throw new SignatureError('IncompleteSignatureException', 400, 'The Host header must be signed.');
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const declared = headerValue(req, 'x-amz-content-sha256');
  if (declared !== undefined && declared !== bodyHash) {
    throw new SignatureError('InvalidSignatureException', 400, 'The body does not match X-Amz-Content-Sha256.');
  }
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = headerValue(req, name);
    if (value === undefined)
      throw new SignatureError('IncompleteSignatureException', 400, `The signed header ${name} is missing.`);
    headers[name] = value;
  }
  const url = new URL(req.url ?? '/', 'http://local');
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key);
    query[key] = all.length === 1 ? (all[0] as string) : all;
  }
  // No checksum header of its own: only what the client signed is in the canonical request.
  const signer = new SignatureV4({
    credentials: keys,
    region: region as string,
    service: service as string,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const request: HttpRequest = {
    method: (req.method ?? 'POST').toUpperCase(),
    protocol: 'http:',
    hostname: headers['host'] ?? '',
    path: url.pathname,
    query,
    headers,
    body,
  };
  const again = await signer.sign(request, { signingDate, signableHeaders: new Set(signed) });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(again.headers['authorization'] ?? ''))?.[1] ?? '';
  const same =
    expected.length === (signature as string).length &&
    timingSafeEqual(Buffer.from(expected), Buffer.from(signature as string));
  if (!same) {
    throw new SignatureError(
      'InvalidSignatureException',
      400,
      'The request signature we calculated does not match the signature you provided.',
    );
  }
}
