import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sealConfig, validateConfig } from '../../../../core/config';
import { CONFIG_PARSER_FILE, webhookBuildOptions } from '../../../../functions/webhook/bundle';
import { type FakeAwsJsonServer, startedExecution, startFakeAwsJson } from '../../aws/fake-aws-json';
import { githubDelivery, githubExample, githubPush, SECRET } from '../../intake/support';
import { apiEvent } from './support';

const ROOT = join(__dirname, '../../../..');
// Inside the project, so that the AWS SDK (external, as on Lambda) resolves from node_modules.
const OUT = join(ROOT, 'node_modules', '.cache', 'stepline-test', 'webhook.js');
const PARSER = join(OUT, '..', CONFIG_PARSER_FILE);
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';

const RAW_CONFIG = {
  version: 1,
  repositories: [
    {
      provider: 'github',
      name: 'Codertocat/Hello-World',
      branches: [{ pattern: 'master' }],
      build: { imageRepository: 'c/h' },
    },
  ],
};

/** What the bundle loaded: whether zod ran, which files and SDK packages it required, which Node internals. */
interface Loaded {
  readonly zod: boolean;
  readonly files: string[];
  readonly webStreams: boolean;
}

/**
 * Loads the bundled handler in a fresh Node process, the way Lambda loads it, and invokes it with `event` when one
 * is given. Reports what was loaded after the load, before any invocation.
 */
async function runBundle(
  env: Record<string, string>,
  event?: unknown,
): Promise<{ loaded: Loaded; result: { statusCode: number; body: string } | null }> {
  const script = `
    const { handler } = require(${JSON.stringify(OUT)});
    const loaded = {
      zod: globalThis.__zod_globalConfig !== undefined,
      files: Object.keys(require.cache),
      webStreams: process.moduleLoadList.includes('NativeModule internal/webstreams/readablestream'),
    };
    process.stdout.write('LOADED ' + JSON.stringify(loaded) + '\\n');
    if (process.env.EVENT) {
      handler(JSON.parse(process.env.EVENT), { awsRequestId: 'r', functionName: 'stepline-webhook' })
        .then((r) => process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n'));
    }`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
    env: { PATH: process.env['PATH'] ?? '', ...env, ...(event ? { EVENT: JSON.stringify(event) } : {}) },
  });
  const line = (prefix: string) =>
    stdout
      .split('\n')
      .find((l) => l.startsWith(prefix))
      ?.slice(prefix.length);
  const loaded = line('LOADED ');
  if (loaded === undefined) throw new Error(`nothing loaded: ${stdout.slice(0, 400)}`);
  const result = line('RESULT ');
  return { loaded: JSON.parse(loaded), result: result === undefined ? null : JSON.parse(result) };
}

describe('the bundled webhook function', () => {
  let sfn: FakeAwsJsonServer;
  let sealedPath: string;

  beforeAll(async () => {
    mkdirSync(join(OUT, '..'), { recursive: true });
    await build(webhookBuildOptions(OUT));
    sfn = await startFakeAwsJson(startedExecution);
    const dir = mkdtempSync(join(tmpdir(), 'stepline-bundle-'));
    sealedPath = join(dir, 'stepline.config.json');
    writeFileSync(sealedPath, JSON.stringify(sealConfig(validateConfig(RAW_CONFIG, 'test'))));
  }, 60_000);

  afterAll(async () => {
    await sfn.close();
  });

  beforeEach(() => sfn.reset());

  const env = (config: string) => ({
    STEPLINE_CONFIG: config,
    STATE_MACHINE_ARN: ARN,
    WEBHOOK_SECRET: SECRET,
    PARKING_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/stepline-parking',
    SFN_ENDPOINT: sfn.url,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'ASIATEST',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SESSION_TOKEN: 'session',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });

  it('keeps the configuration parser (zod) in a file of its own, in English only', () => {
    // Act
    const handlerFile = readFileSync(OUT, 'utf8');
    const parserFile = readFileSync(PARSER, 'utf8');

    // Assess
    expect(handlerFile).not.toContain('__zod_globalConfig');
    expect(handlerFile).toContain(`require("./${CONFIG_PARSER_FILE}")`);
    expect(parserFile).toContain('__zod_globalConfig');
    expect(parserFile).not.toContain('Ungültige Eingabe');
  });

  it('loads with a sealed configuration without zod, the parser, the AWS SDK or web streams', async () => {
    // Act
    const { loaded } = await runBundle(env(sealedPath));

    // Assess
    expect(loaded.zod).toBe(false);
    expect(loaded.files).toEqual([OUT]);
    expect(loaded.webStreams).toBe(false);
  });

  it('validates a configuration that is not sealed, loading the parser beside it', async () => {
    // Act
    const { loaded } = await runBundle(env(JSON.stringify(RAW_CONFIG)));

    // Assess
    expect(loaded.zod).toBe(true);
    expect(loaded.files).toEqual([OUT, PARSER]);
  });

  it('answers a ping', async () => {
    // Act
    const { result } = await runBundle(env(sealedPath), apiEvent(githubDelivery('ping', githubExample('ping'))));

    // Assess
    expect(result!.statusCode).toBe(200);
    expect(JSON.parse(result!.body)).toEqual({ status: 'pong', provider: 'github' });
  });

  it.each([
    ['sealed', () => sealedPath],
    ['raw', () => JSON.stringify(RAW_CONFIG)],
  ])(
    'starts an execution through the Step Functions endpoint it is given (%s configuration)',
    async (_name, config) => {
      // Act
      const { result } = await runBundle(
        env(config()),
        apiEvent(githubDelivery('push', githubPush(), { deliveryId: 'b-1' })),
      );

      // Assess
      expect(result!.statusCode).toBe(202);
      expect(JSON.parse(result!.body)).toMatchObject({ status: 'started', name: 'Codertocat-Hello-World-6113728-b-1' });
      const [start] = sfn.calls('StartExecution');
      expect(start).toMatchObject({
        target: 'AWSStepFunctions.StartExecution',
        body: { stateMachineArn: ARN, name: 'Codertocat-Hello-World-6113728-b-1' },
        headers: { 'x-amz-security-token': 'session' },
      });
      expect(start!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIATEST\/\d{8}\/eu-west-1\/states\//);
    },
  );
});
