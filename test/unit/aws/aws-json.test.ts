import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AwsJsonClient,
  type AwsJsonClientOptions,
  defaultCredentialProvider,
  regionalEndpoint,
  SECRETS_MANAGER,
  STEP_FUNCTIONS,
  sanitizeErrorCode,
} from '../../../adapters/aws/aws-json';
import {
  AwsClientConfigError,
  AwsCredentialsError,
  AwsNetworkError,
  AwsServiceError,
  AwsTimeoutError,
} from '../../../adapters/aws/errors';
import { awsError, type FakeAnswer, type FakeAwsJsonServer, startFakeAwsJson } from './fake-aws-json';

/** The JSON-protocol client against real HTTP servers on 127.0.0.1. */

let server: FakeAwsJsonServer;
let delays: number[];

beforeAll(async () => {
  server = await startFakeAwsJson();
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.reset();
  delays = [];
});

const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

function client(options: Partial<AwsJsonClientOptions> = {}): AwsJsonClient {
  return new AwsJsonClient({
    service: STEP_FUNCTIONS,
    region: 'eu-west-1',
    endpoint: server.url,
    credentials: KEYS,
    random: () => 0.5,
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...options,
  });
}

const OK: FakeAnswer = { status: 200, body: { executionArn: 'arn:aws:states:eu-west-1:1:execution:p:n' } };

/** What the call threw. */
async function failure(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('a call', () => {
  it('POSTs the input as awsJson, signed, with the operation in X-Amz-Target, and returns the output', async () => {
    // Prepare
    server.enqueue(OK);
    const aws = client({ credentials: { ...KEYS, sessionToken: 'the-session-token' } });

    // Act
    const output = await aws.call('StartExecution', { stateMachineArn: 'arn:sm', name: 'n', input: '{}' });

    // Assess
    expect(output).toEqual({ executionArn: 'arn:aws:states:eu-west-1:1:execution:p:n' });
    const [request] = server.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/',
      target: 'AWSStepFunctions.StartExecution',
      body: { stateMachineArn: 'arn:sm', name: 'n', input: '{}' },
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-security-token': 'the-session-token',
        'user-agent': 'stepline-aws-json/1',
      },
    });
    expect(request!.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(request!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/states\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
  });

  it('speaks awsJson1_1 to Secrets Manager', async () => {
    // Prepare
    server.enqueue({ status: 200, body: { SecretString: 's' } });

    // Act
    const output = await client({ service: SECRETS_MANAGER }).call('GetSecretValue', { SecretId: 'x' });

    // Assess
    expect(output).toEqual({ SecretString: 's' });
    expect(server.requests[0]).toMatchObject({
      target: 'secretsmanager.GetSecretValue',
      headers: { 'content-type': 'application/x-amz-json-1.1' },
    });
    expect(server.requests[0]!.headers.authorization).toContain('/eu-west-1/secretsmanager/aws4_request');
  });

  it('answers an empty output for an empty body', async () => {
    // Prepare
    server.enqueue({ status: 200, text: '' });

    // Act
    const output = await client().call('StopExecution', { executionArn: 'arn' });

    // Assess
    expect(output).toEqual({});
  });

  it('fails with DeserializationError, without retrying, when a success is not JSON', async () => {
    // Prepare
    server.respond(() => ({ status: 200, text: '<html>proxy</html>' }));

    // Act
    const error = await failure(client().call('StartExecution', {}));

    // Assess
    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error.name).toBe('DeserializationError');
    expect(server.requests).toHaveLength(1);
  });
});

describe('retries, as the SDK standard mode does', () => {
  it.each([
    ['a 429 with no error code', { status: 429, text: '' }, 'throttling'],
    ['a ThrottlingException', awsError(400, 'ThrottlingException', 'Rate exceeded'), 'throttling'],
    ['a TooManyRequestsException', awsError(400, 'TooManyRequestsException', 'slow down'), 'throttling'],
    ['a LimitExceededException', awsError(400, 'LimitExceededException', 'limit'), 'throttling'],
    ['a 500 InternalFailure', awsError(500, 'InternalFailure', 'oops'), 'transient'],
    ['a 502 with an HTML body', { status: 502, text: '<html>bad gateway</html>' }, 'transient'],
    ['a 503 ServiceUnavailable', awsError(503, 'ServiceUnavailable', 'down'), 'transient'],
    ['a 504', { status: 504, text: '' }, 'transient'],
    ['a RequestTimeoutException', awsError(400, 'RequestTimeoutException', 'late'), 'transient'],
    ['a dropped connection', { status: 0, drop: true }, 'transient'],
  ] as Array<[string, FakeAnswer, 'throttling' | 'transient']>)(
    'retries %s and succeeds',
    async (_name, answer, kind) => {
      // Prepare
      server.enqueue(answer, OK);

      // Act
      const output = await client().call('StartExecution', {});

      // Assess
      expect(output).toEqual(OK.body);
      expect(server.requests).toHaveLength(2);
      // full jitter: random (0.5 here) times the base, 1,000 ms after throttling, 50 ms otherwise
      expect(delays).toEqual([kind === 'throttling' ? 500 : 25]);
    },
  );

  it.each([
    ['ValidationException', 400],
    ['ExecutionAlreadyExists', 400],
    ['ExecutionLimitExceeded', 400],
    ['AccessDeniedException', 403],
    ['ResourceNotFoundException', 404],
    ['NotImplemented', 501],
  ])('never retries a %s (%i)', async (code, status) => {
    // Prepare
    server.respond(() => awsError(status, code, `it is a ${code}`));

    // Act
    const error = await failure(client().call('StartExecution', {}));

    // Assess
    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error).toMatchObject({ name: code, message: `it is a ${code}`, statusCode: status, attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('gives up after three attempts, with backoff doubling between them, and says how many it made', async () => {
    // Prepare
    server.respond(() => awsError(400, 'ThrottlingException', 'Rate exceeded'));

    // Act
    const error = await failure(client().call('StartExecution', {}));

    // Assess
    expect(error).toMatchObject({ name: 'ThrottlingException', attempts: 3, fault: 'client' });
    expect(server.requests).toHaveLength(3);
    expect(delays).toEqual([500, 1000]);
  });

  it('waits at least what Retry-After asks, up to 5 s more than its own backoff', async () => {
    // Prepare
    server.enqueue({ ...awsError(429, 'TooManyRequestsException', 'later'), headers: { 'retry-after': '2' } });
    server.enqueue({ ...awsError(429, 'TooManyRequestsException', 'later'), headers: { 'retry-after': '60' } });
    server.enqueue(OK);

    // Act
    await client().call('StartExecution', {});

    // Assess
    expect(delays).toEqual([2000, 6000]);
  });

  it('stops retrying once its retry quota is spent, and earns it back with successes', async () => {
    // Prepare: 500 tokens, 14 per transient retry; 17 failed calls of 3 attempts spend 476.
    server.respond(() => awsError(503, 'ServiceUnavailable', 'down'));
    const aws = client();
    for (let i = 0; i < 17; i++) await failure(aws.call('StartExecution', {}));
    server.reset();

    // Act
    await failure(aws.call('StartExecution', {})); // one retry left (476 + 14 = 490)
    const eighteenth = server.requests.length;
    await failure(aws.call('StartExecution', {})); // none
    const nineteenth = server.requests.length - eighteenth;
    server.respond(() => OK);
    for (let i = 0; i < 4; i++) await aws.call('StartExecution', {}); // +1 each: 14 again
    server.respond(() => awsError(503, 'ServiceUnavailable', 'down'));
    const before = server.requests.length;
    await failure(aws.call('StartExecution', {}));

    // Assess
    expect(eighteenth).toBe(2);
    expect(nineteenth).toBe(1);
    expect(server.requests.length - before).toBe(2);
  });

  it('corrects its clock from the Date of a clock-skew error and tries again', async () => {
    // Prepare: our clock says 03:00, the service's 04:00.
    server.enqueue(
      awsError(403, 'InvalidSignatureException', 'Signature not yet current', {
        date: 'Thu, 26 Nov 2026 04:00:00 GMT',
      }),
      OK,
    );
    const aws = client({ now: () => Date.parse('2026-11-26T03:00:00Z') });

    // Act
    await aws.call('StartExecution', {});

    // Assess
    expect(server.requests.map((r) => r.headers['x-amz-date'])).toEqual(['20261126T030000Z', '20261126T040000Z']);
  });

  it('does not retry an AccessDeniedException when the clock is right', async () => {
    // Prepare
    const now = Date.parse('2026-11-26T03:00:00Z');
    server.respond(() =>
      awsError(403, 'AccessDeniedException', 'not authorized', { date: new Date(now + 1000).toUTCString() }),
    );

    // Act
    const error = await failure(client({ now: () => now }).call('StartExecution', {}));

    // Assess
    expect(error.name).toBe('AccessDeniedException');
    expect(server.requests).toHaveLength(1);
  });
});

describe('timeouts and connection failures', () => {
  it('abandons an attempt after the request timeout, retries, and fails with TimeoutError', async () => {
    // Prepare
    server.respond(() => ({ status: 200, hang: true }));

    // Act
    const error = await failure(client({ requestTimeoutMs: 100 }).call('StartExecution', {}));

    // Assess
    expect(error).toBeInstanceOf(AwsTimeoutError);
    expect(error).toMatchObject({ name: 'TimeoutError', attempts: 3, operation: 'StartExecution' });
    expect(error.message).toBe(`StartExecution: no answer from ${new URL(server.url).host} within 100 ms`);
    expect(server.requests).toHaveLength(3);
  });

  it('gets the answer of a slow service within the timeout', async () => {
    // Prepare
    server.enqueue({ ...OK, delayMs: 50 });

    // Act
    const output = await client({ requestTimeoutMs: 1000 }).call('StartExecution', {});

    // Assess
    expect(output).toEqual(OK.body);
  });

  it('retries a refused connection and fails with NetworkingError ECONNREFUSED', async () => {
    // Prepare: a port that was just free, on which nothing listens
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    // Act
    const error = await failure(client({ endpoint: `http://127.0.0.1:${port}` }).call('StartExecution', {}));

    // Assess
    expect(error).toBeInstanceOf(AwsNetworkError);
    expect(error).toMatchObject({ name: 'NetworkingError', code: 'ECONNREFUSED', attempts: 3 });
    expect(delays).toHaveLength(2);
  });
});

describe('errors named as the SDK names them', () => {
  it.each([
    [
      'a namespaced __type',
      awsError(400, 'com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists', 'Execution Already Exists'),
      'ExecutionAlreadyExists',
      'Execution Already Exists',
    ],
    [
      'the x-amzn-errortype header',
      {
        status: 404,
        body: { Message: 'Secrets Manager cannot find the specified secret.' },
        headers: { 'x-amzn-errortype': 'ResourceNotFoundException:http://internal.amazon.com/coral/' },
      },
      'ResourceNotFoundException',
      'Secrets Manager cannot find the specified secret.',
    ],
    ['a code field', { status: 400, body: { code: 'InvalidArn', message: 'bad arn' } }, 'InvalidArn', 'bad arn'],
    ['nothing to name it', { status: 400, text: 'no' }, 'Unknown', 'StartExecution failed with HTTP 400'],
  ] as Array<[string, FakeAnswer, string, string]>)('reads the code from %s', async (_name, answer, code, message) => {
    // Prepare
    server.enqueue(answer);

    // Act
    const error = await failure(client().call('StartExecution', {}));

    // Assess
    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error).toMatchObject({ name: code, code, message, service: 'states', operation: 'StartExecution' });
    expect((error as AwsServiceError).requestId).toMatch(/^req-/);
  });

  it('sanitizes codes as the SDK does', () => {
    // Act + Assess
    expect(sanitizeErrorCode('aws.protocoltests.restjson#FooError:http://internal.amazon.com/coral/')).toBe('FooError');
    expect(sanitizeErrorCode('FooError,BarError')).toBe('FooError');
    expect(sanitizeErrorCode('ThrottlingException')).toBe('ThrottlingException');
  });
});

describe('credentials', () => {
  const SAVED = { ...process.env };

  afterEach(() => {
    process.env = { ...SAVED };
  });

  it('fails with CredentialsProviderError, sending nothing and not retrying, when there are none', async () => {
    // Prepare
    let asked = 0;
    const aws = client({
      credentials: async () => {
        asked++;
        throw new Error('Could not load credentials from any providers');
      },
    });

    // Act
    const error = await failure(aws.call('StartExecution', {}));

    // Assess
    expect(error).toBeInstanceOf(AwsCredentialsError);
    expect(error.name).toBe('CredentialsProviderError');
    expect(asked).toBe(1);
    expect(server.requests).toHaveLength(0);
  });

  it("uses the environment's credentials, as Lambda sets them", async () => {
    // Prepare
    process.env['AWS_ACCESS_KEY_ID'] = 'ASIAFROMTHEENV';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'secret-from-the-env';
    process.env['AWS_SESSION_TOKEN'] = 'token-from-the-env';
    server.enqueue(OK);
    const credentials = defaultCredentialProvider();

    // Act
    await client({ credentials }).call('StartExecution', {});

    // Assess
    expect(server.requests[0]!.headers.authorization).toContain('Credential=ASIAFROMTHEENV/');
    expect(server.requests[0]!.headers['x-amz-security-token']).toBe('token-from-the-env');
  });

  it("falls back to the SDK's provider chain (here a shared credentials file) when the environment has none", async () => {
    // Prepare
    const folder = mkdtempSync(join(tmpdir(), 'stepline-credentials-'));
    writeFileSync(
      join(folder, 'credentials'),
      '[default]\naws_access_key_id = AKIAFROMTHEFILE\naws_secret_access_key = secret-from-the-file\n',
    );
    writeFileSync(join(folder, 'config'), '');
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) {
      delete process.env[name];
    }
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(folder, 'credentials');
    process.env['AWS_CONFIG_FILE'] = join(folder, 'config');
    process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
    server.enqueue(OK);
    const credentials = defaultCredentialProvider();

    // Act
    await client({ credentials }).call('StartExecution', {});

    // Assess
    expect(server.requests[0]!.headers.authorization).toContain('Credential=AKIAFROMTHEFILE/');
    expect(server.requests[0]!.headers['x-amz-security-token']).toBeUndefined();
  });
});

describe('endpoints', () => {
  it.each([
    ['eu-west-1', STEP_FUNCTIONS, 'https://states.eu-west-1.amazonaws.com/'],
    ['us-gov-west-1', STEP_FUNCTIONS, 'https://states.us-gov-west-1.amazonaws.com/'],
    ['cn-north-1', SECRETS_MANAGER, 'https://secretsmanager.cn-north-1.amazonaws.com.cn/'],
  ])('calls the endpoint of %s', (region, service, url) => {
    // Act + Assess
    expect(regionalEndpoint(service, region).href).toBe(url);
    expect(new AwsJsonClient({ service, region, credentials: KEYS }).endpoint.href).toBe(url);
  });

  it('refuses to be built without a region or an endpoint, or with an endpoint that is not a URL', () => {
    // Act + Assess
    expect(() => new AwsJsonClient({ service: STEP_FUNCTIONS, credentials: KEYS })).toThrow(AwsClientConfigError);
    expect(() => new AwsJsonClient({ service: STEP_FUNCTIONS, credentials: KEYS })).toThrow(
      'the states client needs a region (AWS_REGION) or an endpoint, and has neither',
    );
    expect(() => new AwsJsonClient({ service: STEP_FUNCTIONS, endpoint: 'not a url' })).toThrow(AwsClientConfigError);
  });

  it('signs for us-east-1 when only an endpoint is given (the local runtime)', async () => {
    // Prepare
    server.enqueue(OK);

    // Act
    await client({ region: null }).call('StartExecution', {});

    // Assess
    expect(server.requests[0]!.headers.authorization).toContain('/us-east-1/states/aws4_request');
  });
});
