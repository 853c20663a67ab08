import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import {
  amzDate,
  deriveSigningKey,
  type SignableRequest,
  type SigningParameters,
  signRequest,
} from '../../../adapters/aws/aws-json';

/**
 * The JSON-protocol client signs with its own SigV4 code (node:crypto). These tests hold it against AWS's
 * documented example and against the SDK's signer, @smithy/signature-v4, on the same requests.
 */

/** The hash constructor @smithy/signature-v4 takes, over node:crypto: SHA-256, or HMAC-SHA256 with a key. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;

  public constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }

  public update(data: SourceData): void {
    this.hash.update(bytes(data));
  }

  public async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

async function smithySignature(request: SignableRequest & { hostname: string }, parameters: SigningParameters) {
  const signer = new SignatureV4({
    service: parameters.service,
    region: parameters.region,
    credentials: {
      accessKeyId: parameters.credentials.accessKeyId,
      secretAccessKey: parameters.credentials.secretAccessKey,
      ...(parameters.credentials.sessionToken ? { sessionToken: parameters.credentials.sessionToken } : {}),
    },
    sha256: NodeSha256,
    ...(parameters.applyChecksum === undefined ? {} : { applyChecksum: parameters.applyChecksum }),
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: request.hostname,
      path: request.path,
      query: {},
      headers: { ...request.headers },
      body: request.body,
    },
    { signingDate: parameters.date },
  );
  return Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), value]));
}

const DATE = new Date('2026-11-26T03:04:05.678Z');
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

function jsonRequest(hostname: string, target: string, version: string, body: string, path = '/') {
  return {
    method: 'POST',
    hostname,
    path,
    headers: {
      host: hostname,
      'content-type': `application/x-amz-json-${version}`,
      'content-length': String(Buffer.byteLength(body)),
      'x-amz-target': target,
    },
    body,
  };
}

describe('SigV4 signing of the JSON-protocol client', () => {
  it("matches AWS's documented example (IAM ListUsers, 2015-08-30)", () => {
    // Prepare: the example of the AWS General Reference, "Create a signed AWS API request".
    const request: SignableRequest = {
      method: 'GET',
      path: '/',
      query: 'Action=ListUsers&Version=2010-05-08',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', Host: 'iam.amazonaws.com' },
      body: '',
    };

    // Act
    const headers = signRequest(request, {
      credentials: CREDENTIALS,
      region: 'us-east-1',
      service: 'iam',
      date: new Date('2015-08-30T12:36:00Z'),
      applyChecksum: false,
    });

    // Assess
    expect(deriveSigningKey(CREDENTIALS.secretAccessKey, '20150830', 'us-east-1', 'iam').toString('hex')).toBe(
      'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9',
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers['authorization']).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    );
  });

  it.each([
    [
      'StartExecution with a session token (Lambda credentials)',
      jsonRequest(
        'states.eu-west-1.amazonaws.com',
        'AWSStepFunctions.StartExecution',
        '1.0',
        JSON.stringify({
          stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:p',
          name: 'n',
          input: '{}',
        }),
      ),
      { ...CREDENTIALS, sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJHMEUCIQ+token/with+slashes=' },
      'eu-west-1',
      'states',
    ],
    [
      'GetSecretValue with long-term keys',
      jsonRequest(
        'secretsmanager.us-east-1.amazonaws.com',
        'secretsmanager.GetSecretValue',
        '1.1',
        '{"SecretId":"stepline/webhook"}',
      ),
      CREDENTIALS,
      'us-east-1',
      'secretsmanager',
    ],
    [
      'a body with non-ASCII characters',
      jsonRequest(
        'states.ap-northeast-1.amazonaws.com',
        'AWSStepFunctions.StartExecution',
        '1.0',
        JSON.stringify({ input: '{"message":"déploiement ✓ 日本"}' }),
      ),
      CREDENTIALS,
      'ap-northeast-1',
      'states',
    ],
    [
      'an endpoint with a path and spaces to fold in a header value',
      {
        ...jsonRequest('127.0.0.1:8080', 'AWSStepFunctions.StartExecution', '1.0', '{}', '/local/aws sfn/'),
        headers: {
          host: '127.0.0.1:8080',
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': '  AWSStepFunctions.StartExecution   ',
          'x-custom': 'a   b\tc',
        },
      },
      CREDENTIALS,
      'us-east-1',
      'states',
    ],
    [
      'an empty body',
      jsonRequest('states.eu-west-1.amazonaws.com', 'AWSStepFunctions.ListStateMachines', '1.0', ''),
      CREDENTIALS,
      'eu-west-1',
      'states',
    ],
  ])('signs %s exactly as @smithy/signature-v4 does', async (_name, request, credentials, region, service) => {
    // Prepare
    const parameters: SigningParameters = { credentials, region, service, date: DATE };

    // Act
    const ours = signRequest(request, parameters);
    const theirs = await smithySignature(request, parameters);

    // Assess
    expect(ours['authorization']).toBe(theirs['authorization']);
    expect(ours).toEqual(theirs);
  });

  it('signs the same request differently for another secret, day, region or service', () => {
    // Prepare
    const request = jsonRequest('states.eu-west-1.amazonaws.com', 'AWSStepFunctions.StartExecution', '1.0', '{}');
    const base: SigningParameters = { credentials: CREDENTIALS, region: 'eu-west-1', service: 'states', date: DATE };
    const variants: SigningParameters[] = [
      { ...base, credentials: { ...CREDENTIALS, secretAccessKey: 'another' } },
      { ...base, date: new Date('2026-11-27T03:04:05Z') },
      { ...base, region: 'eu-west-2' },
      { ...base, service: 'secretsmanager' },
    ];

    // Act
    const signatures = [base, ...variants].map((p) => signRequest(request, p)['authorization']);

    // Assess
    expect(new Set(signatures).size).toBe(5);
  });

  it('formats the signing time as SigV4 wants it', () => {
    // Act
    const date = amzDate(DATE);

    // Assess
    expect(date).toEqual({ long: '20261126T030405Z', short: '20261126' });
  });
});
