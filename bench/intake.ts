import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import examples from '@octokit/webhooks-examples';
import type { HttpRequest, HttpResponse } from '@smithy/types';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { build } from 'esbuild';
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
  typeof import('../core/config/parse') &
  Pick<typeof import('@aws-sdk/client-sfn'), 'StartExecutionCommand'>;

const ROOT = join(__dirname, '..');
// Inside the project, so that the variant built with the SDK left out resolves it from node_modules.
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
        "export { createSfnClient, StepFunctionsWorkflowStarter } from './adapters/aws/workflow';",
        "export { validateConfig } from './core/config/parse';",
        "export { StartExecutionCommand } from '@aws-sdk/client-sfn';",
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
 *   the AWS SDK's SFNClient as on Lambda, serialized, signed and parsed by the SDK, only its HTTP exchange answered
 *   by a stub given as the client's `requestHandler`), p50 and p99 over DELIVERIES deliveries, beside the floor
 *   measured in the same run (HMAC-SHA256 plus JSON.parse of the same bytes) and their ratio; target p50 <= 3x the
 *   floor, which the issue defines with the client answered by a stub at the port (also printed);
 * - the size of the minified esbuild bundle of the webhook function, the pinned SDK inside (the handler and the
 *   configuration parser beside it); target <= 400 KB;
 * - its cold module-load time with the sealed configuration the construct ships: the median of 10
 *   `node -e "require(bundle)"` minus the median of 10 bare `node -e ""`; target <= 80 ms. For comparison, the
 *   same with the raw configuration (validated with zod at load), and the same handler built with the SDK left to
 *   the Lambda runtime (resolved from node_modules here, as the runtime resolves its own copy).
 *
 * Figures and their history: docs/perf/intake.md.
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
  /** The same handler with Step Functions answered by a stub at the port (no SDK call), as the issue defines it. */
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
  // The SDK's Step Functions client, as on Lambda (serialization, endpoint, SigV4 signing, retries, parsing), with
  // its HTTP exchange answered by a stub in process: the answer StartExecution gives, at once.
  let started = 0;
  let lastBody = '';
  const executionPrefix = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:`;
  const sfn = code.createSfnClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'ASIABENCH', secretAccessKey: 'bench-secret-key', sessionToken: 'bench-token' },
    requestHandler: stubbedHttp((request) => {
      started++;
      if (!String(request.headers['authorization']).startsWith('AWS4-HMAC-SHA256 ')) {
        throw new Error('unsigned request');
      }
      lastBody = bodyText(request);
      const name = /"name":"([^"]+)"/.exec(lastBody)?.[1];
      return `{"executionArn":"${executionPrefix}${name}","startDate":1795662000.123}`;
    }),
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
  // The same handler with the workflow port answered by a stub (no SDK call: no serialization, no signing), as the
  // SDK's client was when mocked: what the target is defined on.
  const stubbedPorts = {
    ...ports,
    workflow: {
      start: async ({ name }: { name: string }) => {
        started++;
        return { outcome: 'started' as const, executionArn: `${executionPrefix}${name}` };
      },
    },
  };
  const stubbedHandler = createWebhookHandler({ config: CONFIG, ...stubbedPorts });
  // The same delivery through the core alone, the port stubbed as above: no middy, logs, metrics or HTTP mapping.
  const intake = new Intake(CONFIG);
  const coreOnce = (i: number) =>
    receive(intake, { provider: 'github', headers: event(i).headers, body }, stubbedPorts).then((receipt) => {
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

/** The body of an SDK request as text: the SDK's JSON body is bytes (a Uint8Array subclass) or a string. */
function bodyText(request: HttpRequest): string {
  const body: unknown = request.body;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return '';
}

/**
 * An SDK `requestHandler` that answers every request with `answer(request)` as a 200 JSON body, in the same turn:
 * the SDK runs its whole middleware stack (serialize, endpoint, sign, retry, parse); only the socket is gone.
 */
function stubbedHttp(answer: (request: HttpRequest) => string) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
      const body = Buffer.from(answer(request), 'utf8');
      return {
        response: {
          statusCode: 200,
          headers: { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(body.length) },
          body,
        } as HttpResponse,
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {};
    },
    destroy() {},
  };
}

const CLIENT_CALLS = 5_000;

/** StartExecution alone, the same call (the body the handler sent): the SDK's SFNClient.send, its HTTP stubbed. */
async function clientLatency(code: Compiled, request: Latencies['startExecution']): Promise<Float64Array> {
  const answer = '{"executionArn":"arn:aws:states:eu-west-1:123456789012:execution:p:n","startDate":1795662000.123}';
  const sdk = code.createSfnClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'ASIABENCH', secretAccessKey: 'bench-secret-key', sessionToken: 'bench-token' },
    requestHandler: stubbedHttp(() => answer),
  });
  const times = new Float64Array(CLIENT_CALLS);
  for (let i = 0; i < 500; i++) await sdk.send(new code.StartExecutionCommand(request));
  for (let i = 0; i < CLIENT_CALLS; i++) {
    const start = process.hrtime.bigint();
    await sdk.send(new code.StartExecutionCommand(request));
    times[i] = Number(process.hrtime.bigint() - start);
  }
  sdk.destroy();
  return times.sort();
}

interface BundleFile {
  readonly name: string;
  readonly bytes: number;
  readonly inputs: [string, number][];
}

/** The webhook's entry point with the SQS client made at load, as it was before it was loaded on first use. */
const EAGER_PARKING_ENTRY = [
  "export * from './functions/webhook/index';",
  "import { createSqsClient } from './adapters/aws/parking';",
  'createSqsClient();',
].join('\n');

/**
 * The webhook bundle into OUTDIR/`folder`: as shipped; or with `external` packages left out, to be resolved when it
 * loads (the AWS SDK: what the Lambda runtime's own copy would serve); or with the SQS client made at load.
 */
async function bundle(
  folder: string,
  variant: { readonly external?: string[]; readonly eagerParking?: boolean } = {},
): Promise<{ path: string; files: BundleFile[] }> {
  const path = join(OUTDIR, folder, 'index.js');
  const options = webhookBuildOptions(path);
  const result = await build({
    ...options,
    external: variant.external ?? [],
    ...(variant.eagerParking
      ? {
          entryPoints: { ...(options.entryPoints as Record<string, string>), index: join(OUTDIR, 'eager-entry.ts') },
        }
      : {}),
  });
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

/**
 * One cold load in a fresh `node`: the wall time of the whole process (the target's definition, less a bare
 * `node` run) and the time of `require(file)` inside it, which leaves Node's own start out and so moves less with
 * the machine's load. `file` null: a bare `node -e ""`.
 */
function loadTime(file: string | null, env: NodeJS.ProcessEnv): { wall: number; inProcess: number } {
  const script =
    file === null
      ? ''
      : `const t = performance.now(); require(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  const start = process.hrtime.bigint();
  const out = execFileSync(process.execPath, ['-e', script], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  return { wall, inProcess: file === null ? 0 : Number(out.toString('utf8')) };
}

/** Median wall time minus the bare node's, and the median in-process require, as `a ms (require b ms)`. */
function loadFigure(runs: { wall: number; inProcess: number }[], bare: number): string {
  const wall = median(runs.map((r) => r.wall)) - bare;
  return `${wall.toFixed(1)} ms (require() itself ${median(runs.map((r) => r.inProcess)).toFixed(1)} ms)`;
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
  row(
    'core',
    c50,
    c99,
    `receive() alone, the workflow port stubbed: ${(c50 / f50).toFixed(2)}x the floor (no middy, logs, metrics)`,
  );
  row(
    'handler',
    s50,
    s99,
    `the Lambda handler, the workflow port answered by a stub: ${(s50 / f50).toFixed(2)}x the floor at p50, ${(s99 / f99).toFixed(2)}x at p99`,
  );
  row(
    'handler+sdk',
    p50,
    p99,
    `the same with the real SDK client (SFNClient: serialize, sign, retry, parse), its HTTP answered by a stub: ${(p50 / f50).toFixed(2)}x at p50, ${(p99 / f99).toFixed(2)}x at p99`,
  );
  console.log(
    `  target: handler p50 <= 3x the floor (the port answered by a stub): ${s50 <= 3 * f50 ? 'met' : 'MISSED'}; with the SDK client's work counted: ${p50 <= 3 * f50 ? 'met' : 'MISSED'}`,
  );
  console.log(
    `  (the handler's logs and EMF metrics are formatted as in Lambda, ${(logBytes / DELIVERIES).toFixed(0)} bytes per delivery, and written to a counter instead of the terminal)`,
  );
  const sdkSend = await clientLatency(code, startExecution);
  console.log(
    `  of which StartExecution (${Buffer.byteLength(JSON.stringify(startExecution))}-byte body) through the SDK's SFNClient.send, its HTTP stubbed: p50 ${micros(percentile(sdkSend, 50))}, p99 ${micros(percentile(sdkSend, 99))}\n`,
  );

  const { path, files } = await bundle('webhook');
  const totalKb = files.reduce((sum, f) => sum + f.bytes, 0) / 1024;
  console.log(
    `bundle of functions/webhook (esbuild, minified, node20, cjs, the pinned AWS SDK inside): ${totalKb.toFixed(1)} KB   target <= 400 KB: ${totalKb <= 400 ? 'met' : 'MISSED'}`,
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
    // Node 20 here, nodejs24.x on Lambda: the SDK's warning that later releases need Node 22 is not a Lambda cost.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  // The same handler with the SDK left to the runtime (`@aws-sdk/*` external, resolved from node_modules).
  const runtimeSdk = await bundle('webhook-runtime-sdk', { external: ['@aws-sdk/*'] });
  // The same handler with the SQS client made at load instead of on the first parked delivery.
  writeFileSync(join(OUTDIR, 'eager-entry.ts'), EAGER_PARKING_ENTRY.replaceAll("'./", `'${ROOT}/`));
  const eager = await bundle('webhook-eager-sqs', { eagerParking: true });
  // Interleaved, so that all of them see the same machine state.
  const bare: number[] = [];
  const loaded: { wall: number; inProcess: number }[] = [];
  const unsealed: { wall: number; inProcess: number }[] = [];
  const sdk: { wall: number; inProcess: number }[] = [];
  const eagerSqs: { wall: number; inProcess: number }[] = [];
  for (let i = 0; i < LOAD_RUNS; i++) {
    bare.push(loadTime(null, env(sealedConfig)).wall);
    loaded.push(loadTime(path, env(sealedConfig)));
    unsealed.push(loadTime(path, env(rawConfig)));
    sdk.push(loadTime(runtimeSdk.path, env(sealedConfig)));
    eagerSqs.push(loadTime(eager.path, env(sealedConfig)));
  }
  const bareMedian = median(bare);
  const load = median(loaded.map((r) => r.wall)) - bareMedian;
  console.log(
    `\ncold module load (median of ${LOAD_RUNS}, the sealed configuration the construct ships): require(bundle) ${median(loaded.map((r) => r.wall)).toFixed(1)} ms - bare node ${bareMedian.toFixed(1)} ms = ${load.toFixed(1)} ms   target <= 80 ms: ${load <= 80 ? 'met' : 'MISSED'}`,
  );
  console.log(`  require() itself, timed inside the process: ${median(loaded.map((r) => r.inProcess)).toFixed(1)} ms`);
  console.log(
    `  with the raw stepline.config.json instead (zod loaded and the configuration validated at load): ${loadFigure(unsealed, bareMedian)}`,
  );
  console.log(
    `  the same with the SQS client made at load (it is made on the first parked delivery): ${loadFigure(eagerSqs, bareMedian)}`,
  );
  const runtimeKb = runtimeSdk.files.find((f) => f.name === 'index.js')!.bytes / 1024;
  console.log(
    `  the same handler with @aws-sdk/* left to the Lambda runtime (index.js ${runtimeKb.toFixed(1)} KB, the SDK resolved from node_modules): ${loadFigure(sdk, bareMedian)}`,
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
