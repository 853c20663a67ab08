import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookBuildOptions } from '../../../../functions/webhook/bundle';
import { githubDelivery, githubExample, githubPush, SECRET } from '../../intake/support';
import { apiEvent } from './support';

const ROOT = join(__dirname, '../../../..');
// Inside the project, so that the AWS SDK (external, as on Lambda) resolves from node_modules.
const OUT = join(ROOT, 'node_modules', '.cache', 'stepline-test', 'webhook.js');
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';

/** Invokes the bundled handler in a fresh Node process, the way Lambda loads it. */
async function invokeBundle(
  event: unknown,
  env: Record<string, string>,
): Promise<{ statusCode: number; body: string }> {
  const script = `
    const { handler } = require(${JSON.stringify(OUT)});
    const event = JSON.parse(process.env.EVENT);
    handler(event, { awsRequestId: 'r', functionName: 'stepline-webhook' })
      .then((r) => process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n'));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
    env: { PATH: process.env['PATH'] ?? '', ...env, EVENT: JSON.stringify(event) },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line === undefined) throw new Error(`no result in ${stdout.slice(0, 400)}`);
  return JSON.parse(line.slice('RESULT '.length));
}

describe('the bundled webhook function', () => {
  let server: Server;
  let endpoint: string;
  const starts: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    mkdirSync(join(OUT, '..'), { recursive: true });
    await build(webhookBuildOptions(OUT));
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        starts.push(body);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            executionArn: `arn:aws:states:eu-west-1:123456789012:execution:p:${body['name']}`,
            startDate: 1,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const env = () => ({
    STEPLINE_CONFIG: JSON.stringify({
      version: 1,
      repositories: [
        {
          provider: 'github',
          name: 'Codertocat/Hello-World',
          branches: [{ pattern: 'master' }],
          build: { imageRepository: 'c/h' },
        },
      ],
    }),
    STATE_MACHINE_ARN: ARN,
    WEBHOOK_SECRET: SECRET,
    PARKING_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/stepline-parking',
    SFN_ENDPOINT: endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });

  it('contains zod in English only and leaves the AWS SDK to the runtime', () => {
    // Act
    const text = readFileSync(OUT, 'utf8');

    // Assess
    expect(text).toContain('require("@aws-sdk/client-sfn")');
    expect(text).not.toContain('Ungültige Eingabe');
  });

  it('answers a ping', async () => {
    // Act
    const response = await invokeBundle(apiEvent(githubDelivery('ping', githubExample('ping'))), env());

    // Assess
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: 'pong', provider: 'github' });
  });

  it('starts an execution through the Step Functions endpoint it is given', async () => {
    // Act
    const response = await invokeBundle(apiEvent(githubDelivery('push', githubPush(), { deliveryId: 'b-1' })), env());

    // Assess
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toMatchObject({ status: 'started', name: 'Codertocat-Hello-World-6113728-b-1' });
    expect(starts.at(-1)).toMatchObject({ stateMachineArn: ARN, name: 'Codertocat-Hello-World-6113728-b-1' });
  });
});
