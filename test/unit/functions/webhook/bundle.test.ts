import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateStateMachineCommand, DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { build } from 'esbuild';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSfnClient, executionArnOf } from '../../../../adapters/aws/workflow';
import { sealConfig, validateConfig } from '../../../../core/config';
import { CONFIG_PARSER_FILE, webhookBuildOptions } from '../../../../functions/webhook/bundle';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../../support/moto/clients';
import { type MotoServer, startMoto } from '../../../support/moto/server';
import { githubDelivery, githubExample, githubPush, SECRET } from '../../intake/support';
import { apiEvent } from './support';

const ROOT = join(__dirname, '../../../..');
// Inside the project, as the other build outputs of the tests.
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

/** What the bundle loaded: whether zod ran, which files it required, which Node internals. */
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
  let moto: MotoServer;
  let sfn: SFNClient;
  let sealedPath: string;

  beforeAll(async () => {
    mkdirSync(join(OUT, '..'), { recursive: true });
    await build(webhookBuildOptions(OUT));
    moto = await startMoto();
    sfn = createSfnClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { ...MOTO_CREDENTIALS } });
    const dir = mkdtempSync(join(tmpdir(), 'stepline-bundle-'));
    sealedPath = join(dir, 'stepline.config.json');
    writeFileSync(sealedPath, JSON.stringify(sealConfig(validateConfig(RAW_CONFIG, 'test'))));
  }, 60_000);

  afterAll(async () => {
    sfn?.destroy();
    await moto?.stop();
  });

  beforeEach(async () => {
    await moto.reset();
    await sfn.send(
      new CreateStateMachineCommand({
        name: 'stepline-pipeline',
        roleArn: 'arn:aws:iam::123456789012:role/stepline-pipeline',
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
      }),
    );
  });

  const env = (config: string) => ({
    STEPLINE_CONFIG: config,
    STATE_MACHINE_ARN: ARN,
    WEBHOOK_SECRET: SECRET,
    PARKING_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/stepline-parking',
    // The SDK's own endpoint variable: what a function pointed at a stand-in sets (moto here).
    AWS_ENDPOINT_URL_SFN: moto.endpoint,
    AWS_REGION: MOTO_REGION,
    AWS_ACCESS_KEY_ID: 'ASIATEST',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SESSION_TOKEN: 'session',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
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

  it('loads with a sealed configuration from its one file (the SDK inside), without zod, the parser or web streams', async () => {
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
    'starts an execution through the Step Functions endpoint in AWS_ENDPOINT_URL_SFN (%s configuration)',
    async (_name, config) => {
      // Act
      const { result } = await runBundle(
        env(config()),
        apiEvent(githubDelivery('push', githubPush(), { deliveryId: 'b-1' })),
      );

      // Assess
      expect(result!.statusCode).toBe(202);
      expect(JSON.parse(result!.body)).toMatchObject({ status: 'started', name: 'Codertocat-Hello-World-6113728-b-1' });
      const execution = await sfn.send(
        new DescribeExecutionCommand({ executionArn: executionArnOf(ARN, 'Codertocat-Hello-World-6113728-b-1') }),
      );
      expect(execution).toMatchObject({ stateMachineArn: ARN, status: 'RUNNING' });
    },
  );
});
