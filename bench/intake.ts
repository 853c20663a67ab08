import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import examples from '@octokit/webhooks-examples';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { build } from 'esbuild';
import type { AwsTransport } from '../adapters/aws/aws-json';
import { parseConfig, sealConfig } from '../core/config';
import { webhookBuildOptions } from '../functions/webhook/bundle';

/**
 * The code under test is compiled exactly as the Lambda bundle is (esbuild, minified, same plugins and externals),
 * not run through tsx, whose per-file transform adds helpers the bundle does not have.
 */
type Compiled = typeof import('../functions/webhook/handler') &
  typeof import('../core/intake/intake') &
  typeof import('../core/intake/receive') &
  typeof import('../adapters/local/secrets') &
  typeof import('../adapters/aws/workflow') &
  typeof import('../core/config/parse');

const ROOT = join(__dirname, '..');
// Inside the project, so that the externals (the AWS SDK, which Lambda's runtime provides) resolve as on Lambda.
const OUTDIR = join(ROOT, 'node_modules', '.cache', 'stepline-bench');

async function compiled(): Promise<Compiled> {
  const outfile = join(OUTDIR, 'intake-under-test.js');
  const { entryPoints: _entry, outdir: _outdir, entryNames: _names, ...options } = webhookBuildOptions(outfile);
  await build({
    ...options,
    outfile,
    stdin: {
      contents: [
        "export { createWebhookHandler } from './functions/webhook/handler';",
        "export { Intake } from './core/intake/intake';",
        "export { receive } from './core/intake/receive';",
        "export { StaticWebhookSecrets } from './adapters/local/secrets';",
        "export { createStepFunctionsClient, StepFunctionsWorkflowStarter } from './adapters/aws/workflow';",
        "export { validateConfig } from './core/config/parse';",
      ].join('\n'),
      resolveDir: ROOT,
      loader: 'ts',
      sourcefile: 'intake-under-test.ts',
    },
  });
  return require(outfile) as Compiled;
}

/**
 * The intake benchmark (`npm run bench:intake`). From one run it prints:
 * - the webhook handler's time per delivery of a real GitHub push payload (warm, in process, StartExecution made by
 *   the webhook's own JSON-protocol client, signed and serialized, its HTTP exchange answered by an in-process stub),
 *   p50 and p99 over DELIVERIES deliveries, beside the floor measured in the same run (HMAC-SHA256 plus JSON.parse of
 *   the same bytes) and their ratio; target p50 <= 3x the floor;
 * - the size of the minified esbuild bundle of the webhook function (the handler and the configuration parser
 *   beside it); target <= 400 KB;
 * - its cold module-load time with the sealed configuration the construct ships: the median of 10
 *   `node -e "require(bundle)"` minus the median of 10 bare `node -e ""`; target <= 80 ms. For comparison, the
 *   same with the raw configuration (validated with zod at load), and what the SDK clients it no longer loads cost.
 */

const DELIVERIES = Number(process.env['BENCH_DELIVERIES'] ?? 20_000);
const WARMUP = 2_000;
const LOAD_RUNS = 10;
const SECRET = 'bench-secret';
const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';

type Payload = Record<string, unknown>;
const pushExamples = (examples as unknown as { name: string; examples: Payload[] }[]).find((e) => e.name === 'push')!;
const PUSH = pushExamples.examples.find((p) => p['ref'] === 'refs/heads/master' && p['deleted'] === false)!;

function benchConfig(validateConfig: Compiled['validateConfig']) {
  return validateConfig(
    {
      version: 1,
      repositories: [
        {
          provider: 'github',
          name: 'Codertocat/Hello-World',
          branches: [{ pattern: 'master', environments: ['staging', 'production'] }],
          paths: { include: ['**'], exclude: ['docs/**'] },
          build: { imageRepository: 'codertocat/hello-world' },
          tests: [{ name: 'unit', buildspec: 'ci/unit.yml' }],
          environments: {
            staging: { cluster: { type: 'eks', name: 'staging' }, namespace: 'hello', manifests: 'deploy/staging' },
            production: {
              cluster: { type: 'eks', name: 'production' },
              namespace: 'hello',
              manifests: 'deploy/production',
              approval: { approvers: ['octocat'] },
            },
          },
        },
      ],
    },
    'bench',
  );
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function micros(ns: number): string {
  return `${(ns / 1000).toFixed(1)} µs`;
}

/** Replaces stdout writes with a byte count while `act` runs: log lines are still formatted, not printed. */
async function quietly<T>(act: () => Promise<T>): Promise<{ result: T; bytes: number }> {
  let bytes = 0;
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  const sink = ((chunk: string | Uint8Array) => {
    bytes += typeof chunk === 'string' ? chunk.length : chunk.byteLength;
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = sink;
  process.stderr.write = sink;
  try {
    return { result: await act(), bytes };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

interface Latencies {
  readonly handler: Float64Array;
  /** The same handler with Step Functions answered by a stub at the client (the port), as the issue defines it. */
  readonly stubbed: Float64Array;
  readonly core: Float64Array;
  readonly floor: Float64Array;
  readonly logBytes: number;
  /** The body of one StartExecution the handler made, for the client-alone comparison. */
  readonly startExecution: { stateMachineArn: string; name: string; input: string };
}

async function handlerLatency(code: Compiled): Promise<Latencies> {
  const { createWebhookHandler, Intake, receive, StaticWebhookSecrets, StepFunctionsWorkflowStarter } = code;
  const CONFIG = benchConfig(code.validateConfig);
  const body = JSON.stringify(PUSH);
  const bytes = Buffer.from(body);
  const signature = `sha256=${createHmac('sha256', SECRET).update(bytes).digest('hex')}`;
  // The webhook's own Step Functions client, as on Lambda (SigV4 signing, JSON, retries), with its HTTP exchange
  // answered by a stub in process: the answer StartExecution gives, at once.
  let started = 0;
  let lastBody = '';
  const executionPrefix = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:`;
  const stub: AwsTransport = async (request) => {
    started++;
    if (!request.headers['authorization']?.startsWith('AWS4-HMAC-SHA256 ')) throw new Error('unsigned request');
    lastBody = request.body;
    const name = /"name":"([^"]+)"/.exec(request.body)?.[1];
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: `{"executionArn":"${executionPrefix}${name}","startDate":1795662000.123}`,
    };
  };
  const sfn = code.createStepFunctionsClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'ASIABENCH', secretAccessKey: 'bench-secret-key' },
    transport: stub,
  });
  const ports = {
    secrets: new StaticWebhookSecrets({ current: SECRET, previous: 'bench-previous' }),
    workflow: new StepFunctionsWorkflowStarter(sfn, STATE_MACHINE_ARN),
    parking: {
      park: async () => {
        throw new Error('the benchmark never parks');
      },
    },
  };
  const handler = createWebhookHandler({ config: CONFIG, ...ports });
  // The same handler with the Step Functions client itself answered by a stub (no serialization, no signing), as
  // the SDK's client was when mocked: what the target is defined on.
  const stubbedHandler = createWebhookHandler({
    config: CONFIG,
    ...ports,
    workflow: {
      start: async ({ name }) => {
        started++;
        return { outcome: 'started' as const, executionArn: `${executionPrefix}${name}` };
      },
    },
  });
  // The same delivery through the core alone: no middy, no logs, no metrics, no HTTP mapping.
  const intake = new Intake(CONFIG);
  const coreOnce = (i: number) =>
    receive(intake, { provider: 'github', headers: event(i).headers, body }, ports).then((receipt) => {
      if (receipt.status !== 202) throw new Error(`unexpected core answer ${receipt.status}`);
    });
  const context = { awsRequestId: 'bench', functionName: 'stepline-webhook' } as Context;
  const event = (i: number): APIGatewayProxyEventV2 =>
    ({
      version: '2.0',
      routeKey: 'POST /webhooks/{provider}',
      rawPath: '/webhooks/github',
      rawQueryString: '',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': `6a3c9d40-0000-11f0-8000-${String(i).padStart(12, '0')}`,
        'x-hub-signature-256': signature,
        'user-agent': 'GitHub-Hookshot/bench',
      },
      pathParameters: { provider: 'github' },
      body,
      isBase64Encoded: false,
    }) as unknown as APIGatewayProxyEventV2;

  // The floor: what any verifier must do, HMAC-SHA256 over the bytes and JSON.parse of them.
  const floorOnce = () => {
    const mac = createHmac('sha256', SECRET).update(bytes).digest();
    const parsed = JSON.parse(bytes.toString('utf8')) as Payload;
    if (mac.length !== 32 || parsed['ref'] === undefined) throw new Error('floor sanity');
  };

  const floor = new Float64Array(DELIVERIES);
  const times = new Float64Array(DELIVERIES);
  const core = new Float64Array(DELIVERIES);
  const stubbed = new Float64Array(DELIVERIES);
  const { bytes: logBytes } = await quietly(async () => {
    for (let i = 0; i < WARMUP; i++) {
      floorOnce();
      await coreOnce(i);
      const response = await handler(event(i), context);
      if (response.statusCode !== 202) throw new Error(`unexpected answer ${response.statusCode}: ${response.body}`);
      await stubbedHandler(event(i), context);
    }
    // Interleaved, so that all three see the same machine state.
    for (let i = 0; i < DELIVERIES; i++) {
      let start = process.hrtime.bigint();
      floorOnce();
      floor[i] = Number(process.hrtime.bigint() - start);
      start = process.hrtime.bigint();
      await coreOnce(WARMUP + i);
      core[i] = Number(process.hrtime.bigint() - start);
      start = process.hrtime.bigint();
      await handler(event(WARMUP + i), context);
      times[i] = Number(process.hrtime.bigint() - start);
      start = process.hrtime.bigint();
      await stubbedHandler(event(WARMUP + DELIVERIES + i), context);
      stubbed[i] = Number(process.hrtime.bigint() - start);
    }
  });
  if (started < 3 * DELIVERIES) throw new Error(`only ${started} executions started`);
  return {
    handler: times.sort(),
    stubbed: stubbed.sort(),
    core: core.sort(),
    floor: floor.sort(),
    logBytes,
    startExecution: JSON.parse(lastBody),
  };
}

const CLIENT_CALLS = 5_000;

/**
 * StartExecution alone, the same call (the body the handler sent) answered at the same level: the webhook's client
 * (serialize, sign, parse) with its transport stubbed, and the SDK's SFNClient.send with its request handler
 * stubbed (serialize, middleware stack, sign, parse), which the benchmark stubbed out entirely before.
 */
async function clientLatency(
  code: Compiled,
  request: Latencies['startExecution'],
): Promise<{ ours: Float64Array; sdk: Float64Array }> {
  const answer = '{"executionArn":"arn:aws:states:eu-west-1:123456789012:execution:p:n","startDate":1795662000.123}';
  const credentials = { accessKeyId: 'ASIABENCH', secretAccessKey: 'bench-secret-key' };
  const ours = code.createStepFunctionsClient({
    region: 'eu-west-1',
    credentials,
    transport: async () => ({ statusCode: 200, headers: {}, body: answer }),
  });
  const { SFNClient, StartExecutionCommand } = await import('@aws-sdk/client-sfn');
  const { HttpResponse } = (await import('@smithy/core/protocols')) as unknown as {
    HttpResponse: new (options: { statusCode: number; headers: Record<string, string>; body: unknown }) => unknown;
  };
  const { Readable } = await import('node:stream');
  const sdk = new SFNClient({
    region: 'eu-west-1',
    credentials,
    requestHandler: {
      handle: async () => ({
        response: new HttpResponse({
          statusCode: 200,
          headers: { 'content-type': 'application/x-amz-json-1.0' },
          body: Readable.from([Buffer.from(answer)]),
        }),
      }),
    } as never,
  });
  const oursTimes = new Float64Array(CLIENT_CALLS);
  const sdkTimes = new Float64Array(CLIENT_CALLS);
  for (let i = 0; i < 500; i++) {
    await ours.call('StartExecution', request);
    await sdk.send(new StartExecutionCommand(request));
  }
  for (let i = 0; i < CLIENT_CALLS; i++) {
    let start = process.hrtime.bigint();
    await ours.call('StartExecution', request);
    oursTimes[i] = Number(process.hrtime.bigint() - start);
    start = process.hrtime.bigint();
    await sdk.send(new StartExecutionCommand(request));
    sdkTimes[i] = Number(process.hrtime.bigint() - start);
  }
  sdk.destroy();
  return { ours: oursTimes.sort(), sdk: sdkTimes.sort() };
}

interface BundleFile {
  readonly name: string;
  readonly bytes: number;
  readonly inputs: [string, number][];
}

async function bundle(): Promise<{ path: string; files: BundleFile[] }> {
  const path = join(OUTDIR, 'webhook.js');
  const result = await build(webhookBuildOptions(path));
  const files: BundleFile[] = [];
  for (const [file, output] of Object.entries(result.metafile!.outputs)) {
    const byPackage = new Map<string, number>();
    for (const [input, info] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const key = match ? match[1]! : 'stepline';
      byPackage.set(key, (byPackage.get(key) ?? 0) + info.bytesInOutput);
    }
    const inputs = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6);
    files.push({ name: basename(file), bytes: statSync(join(ROOT, file)).size, inputs });
  }
  files.sort((a, b) => (a.name === basename(path) ? -1 : b.name === basename(path) ? 1 : 0));
  return { path, files };
}

/** The SDK clients the webhook loaded at cold start before it had its own client (docs/adr/0046). */
const WEBHOOK_SDK_CLIENTS = ['@aws-sdk/client-sfn', '@aws-sdk/client-secrets-manager'];

function loadTime(script: string, env: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, ['-e', script], { env, stdio: 'ignore', cwd: ROOT });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  console.log(`Stepline intake benchmark — node ${process.version}, ${DELIVERIES} deliveries of a real GitHub push`);
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${cpus().length} cores`,
  );
  console.log(`payload: @octokit/webhooks-examples push (${Buffer.byteLength(JSON.stringify(PUSH))} bytes)\n`);

  mkdirSync(OUTDIR, { recursive: true });
  const code = await compiled();
  const { handler, stubbed, core, floor, logBytes, startExecution } = await handlerLatency(code);
  const s50 = percentile(stubbed, 50);
  const s99 = percentile(stubbed, 99);
  const p50 = percentile(handler, 50);
  const p99 = percentile(handler, 99);
  const c50 = percentile(core, 50);
  const c99 = percentile(core, 99);
  const f50 = percentile(floor, 50);
  const f99 = percentile(floor, 99);
  const row = (name: string, a: number, b: number, note: string) =>
    console.log(`  ${name.padEnd(12)} p50 ${micros(a).padStart(10)}   p99 ${micros(b).padStart(10)}   ${note}`);
  console.log('time per delivery (warm, in process)');
  row('floor', f50, f99, 'HMAC-SHA256 + JSON.parse of the same bytes');
  row('core', c50, c99, `receive() alone: ${(c50 / f50).toFixed(2)}x the floor (no middy, logs, metrics)`);
  row(
    'handler',
    s50,
    s99,
    `the Lambda handler, the Step Functions client answered by a stub: ${(s50 / f50).toFixed(2)}x the floor at p50, ${(s99 / f99).toFixed(2)}x at p99`,
  );
  row(
    'handler+sig',
    p50,
    p99,
    `the same with the client's own work counted (JSON body, SigV4 signature), its HTTP answered by a stub: ${(p50 / f50).toFixed(2)}x at p50, ${(p99 / f99).toFixed(2)}x at p99`,
  );
  console.log(
    `  target: handler p50 <= 3x the floor (client answered by a stub): ${s50 <= 3 * f50 ? 'met' : 'MISSED'}; with the client's signing counted: ${p50 <= 3 * f50 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `  (the handler's logs and EMF metrics are formatted as in Lambda, ${(logBytes / DELIVERIES).toFixed(0)} bytes per delivery, and written to a counter instead of the terminal)`,
  );
  const clients = await clientLatency(code, startExecution);
  console.log(
    `  of which StartExecution (${Buffer.byteLength(JSON.stringify(startExecution))}-byte body) through the webhook client: p50 ${micros(percentile(clients.ours, 50))}; the SDK's SFNClient.send for the same call, its request handler stubbed: p50 ${micros(percentile(clients.sdk, 50))}\n`,
  );

  const { path, files } = await bundle();
  const totalKb = files.reduce((sum, f) => sum + f.bytes, 0) / 1024;
  console.log(
    `bundle of functions/webhook (esbuild, minified, node20, cjs, @aws-sdk/* from the Lambda runtime): ${totalKb.toFixed(1)} KB   target <= 400 KB: ${totalKb <= 400 ? 'met' : 'MISSED'}`,
  );
  for (const file of files) {
    const role =
      file.name === basename(path)
        ? 'the handler, loaded at cold start'
        : 'the configuration parser, loaded only for an unsealed configuration';
    console.log(`  ${file.name.padEnd(20)} ${(file.bytes / 1024).toFixed(1).padStart(7)} KB   ${role}`);
    for (const [name, size] of file.inputs)
      console.log(`    ${name.padEnd(40)} ${(size / 1024).toFixed(1).padStart(7)} KB`);
  }

  // The configuration as the construct ships it (validated and sealed at synth), and the raw file for comparison.
  const rawConfig = join(ROOT, 'stepline.config.json');
  const sealedConfig = join(OUTDIR, 'stepline.config.sealed.json');
  writeFileSync(sealedConfig, JSON.stringify(sealConfig(parseConfig(readFileSync(rawConfig, 'utf8'), rawConfig))));
  const env = (config: string) => ({
    PATH: process.env['PATH'],
    STEPLINE_CONFIG: config,
    STATE_MACHINE_ARN,
    WEBHOOK_SECRET_ARN: 'stepline/webhook',
    PARKING_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/stepline-parking',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'ASIABENCH',
    AWS_SECRET_ACCESS_KEY: 'bench-secret-key',
    AWS_SESSION_TOKEN: 'bench-session-token',
  });
  // Interleaved, so that all of them see the same machine state.
  const bare: number[] = [];
  const loaded: number[] = [];
  const unsealed: number[] = [];
  const sdk: number[] = [];
  const sdkScript = WEBHOOK_SDK_CLIENTS.map((name) => `require(${JSON.stringify(name)})`).join(';');
  const requireBundle = `require(${JSON.stringify(path)})`;
  for (let i = 0; i < LOAD_RUNS; i++) {
    bare.push(loadTime('', env(sealedConfig)));
    loaded.push(loadTime(requireBundle, env(sealedConfig)));
    unsealed.push(loadTime(requireBundle, env(rawConfig)));
    sdk.push(loadTime(sdkScript, env(sealedConfig)));
  }
  const load = median(loaded) - median(bare);
  console.log(
    `\ncold module load (median of ${LOAD_RUNS}, the sealed configuration the construct ships): require(bundle) ${median(loaded).toFixed(1)} ms - bare node ${median(bare).toFixed(1)} ms = ${load.toFixed(1)} ms   target <= 80 ms: ${load <= 80 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `  with the raw stepline.config.json instead (zod loaded and the configuration validated at load): ${(median(unsealed) - median(bare)).toFixed(1)} ms`,
  );
  console.log(
    `  the AWS SDK clients the webhook no longer loads (${WEBHOOK_SDK_CLIENTS.join(', ')}) would add: ${(median(sdk) - median(bare)).toFixed(1)} ms`,
  );
  console.log(
    `  load average while measuring: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${cpus().length} cores`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
