import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CATEGORIES,
  CATEGORY_LABELS,
  type Category,
  commitChange,
  createSampleRepository,
  decideApproval,
  deliver,
  demoEnvironment,
  githubPush,
  pipelineTimeline,
  readConfig,
  type SampleRepository,
  type Timeline,
  WORK,
} from '../local/demo';
import type { WebhookAnswer } from '../local/demo/webhook';
import { type Runtime, startRuntime } from '../local/runtime';
import type { BuildDocument } from '../local/services/codebuild';
import { buildahAvailable } from '../local/services/codebuild';

/**
 * The local end-to-end benchmark (`npm run bench:local-e2e`, issue 7), on the runtime `stepline demo` starts (in
 * process, simulated cluster, the demo's sample service and configuration):
 *
 * 1. The demo pipeline RUNS times (default 20), one after the other, each for a new commit (the service's version
 *    bumped, so the image and the rollout are new): orchestration overhead = webhook sent → ExecutionSucceeded, minus
 *    the time inside buildspec commands (the INSTALL, PRE_BUILD, BUILD and POST_BUILD phases of every build) and the
 *    rollout waits (the WaitForRollout states and the rollout checks). Instants are counted once: the two test suites
 *    run at the same time. Median and p90 against the target (<= 500 ms), and where the overhead goes. The approval
 *    gate is decided by the benchmark as soon as it asks, through the CLI's API route, and counted as overhead.
 *    A cold run first (the webhook's and the deploy functions' first loads) is shown apart.
 * 2. A burst of DELIVERIES signed deliveries (default 1,000), REDELIVERED of them (10%) redeliveries of an earlier
 *    one (same delivery id, same bytes), sent by CONCURRENCY clients at once. The pushes change only README.md, which
 *    the configuration's path filter excludes: each unique delivery starts a short run that marks its contexts
 *    skipped (PathsChanged → ReportSkipped → end), so the burst measures intake and start, not builds. Executions
 *    started must equal the unique deliveries: 0 lost, 0 duplicated. p50/p99 webhook latency (client side).
 *
 * Environment: BENCH_RUNS, BENCH_DELIVERIES, BENCH_REDELIVERY_SHARE, BENCH_CONCURRENCY, BENCH_PART (pipeline|burst).
 */

const RUNS = Number(process.env['BENCH_RUNS'] ?? 20);
const DELIVERIES = Number(process.env['BENCH_DELIVERIES'] ?? 1000);
const REDELIVERY_SHARE = Number(process.env['BENCH_REDELIVERY_SHARE'] ?? 0.1);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
const PART = process.env['BENCH_PART'] ?? 'all';
const OVERHEAD_TARGET_MS = 500;
/** What ADR 0085 measured before the runtime's speed-ups (ADR 0086), on this machine, quiet. */
const BASELINE = {
  overhead: 'median 855 to 868 ms, p90 968 to 1,046 ms',
  burst: 'p50 266 to 276 ms, p99 1.56 to 1.75 s, max 8.7 s to over 10 s; 25 ms of runtime CPU per delivery',
};
const SENDER_TIMEOUT_MS = 10_000;
const APPROVER = 'release-manager';
const ROOT = join(__dirname, '..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const CLI = join(ROOT, 'local/cli.ts');

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (position - low);
}

const median = (values: readonly number[]): number => quantile(values, 0.5);

function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
}

function met(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}

async function startBenchRuntime(root: string, name: string, repository: SampleRepository): Promise<Runtime> {
  return startRuntime({
    port: 0,
    host: '127.0.0.1',
    stateDir: join(root, name),
    config: readConfig(repository),
    webhookSecret: randomBytes(24).toString('base64url'),
    kubernetes: 'simulated',
    logLevel: 'SILENT',
    replayEveryMs: 0,
    env: demoEnvironment(),
  });
}

/** Approves every gate as soon as it asks, as `stepline approve` would. */
function autoApprove(runtime: Runtime): () => void {
  const listener = (event: Record<string, unknown>): void => {
    if (event['type'] !== 'invoke' || event['function'] !== 'stepline-approval' || event['errorType']) return;
    const id = (event['result'] as { approvalId?: string } | undefined)?.approvalId;
    if (id) void decideApproval(runtime.url, id, 'approve', APPROVER, 'bench');
  };
  runtime.events.on('event', listener);
  return () => runtime.events.off('event', listener);
}

function waitForEnd(runtime: Runtime, executionArn: string, timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const status = runtime.stores.executions.getExecution(executionArn)?.status;
      if (status && status !== 'RUNNING') {
        done(status);
        return true;
      }
      return false;
    };
    const listener = (event: Record<string, unknown>): void => {
      if (event['type'] === 'execution') check();
    };
    const timer = setTimeout(() => {
      runtime.events.off('event', listener);
      reject(new Error(`${executionArn} did not end within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (status: string): void => {
      clearTimeout(timer);
      runtime.events.off('event', listener);
      resolve(status);
    };
    runtime.events.on('event', listener);
    check();
  });
}

function timelineOf(runtime: Runtime, executionArn: string, sentAt: number): Timeline {
  const events = runtime.stores.executions.history(executionArn) as unknown as Parameters<typeof pipelineTimeline>[0];
  const builds = runtime.stores.builds
    .list({ executionArn, limit: 100 })
    .map((b) => runtime.codebuild.get(b.id))
    .filter((b): b is BuildDocument => b !== undefined);
  return pipelineTimeline(events, builds, sentAt);
}

/** Commits a new version of the service (a new image, a new rollout), pushes it and waits for the run's end. */
async function onePipeline(
  runtime: Runtime,
  repository: SampleRepository,
  version: number,
): Promise<{ repository: SampleRepository; timeline: Timeline; status: string }> {
  const pkg = JSON.parse(readFileSync(join(repository.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  pkg['version'] = `1.0.${version}`;
  const next =
    version === 0
      ? repository
      : await commitChange(
          repository,
          { 'package.json': `${JSON.stringify(pkg, null, 2)}\n` },
          `Release 1.0.${version}`,
        );
  const delivery = githubPush(next, runtime.webhookSecret);
  const sentAt = Date.now();
  const answer = await deliver(runtime.url, delivery);
  const arn = answer.body['executionArn'];
  if (answer.status !== 202 || typeof arn !== 'string') {
    throw new Error(`push ${version} was not started: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  const status = await waitForEnd(runtime, arn);
  return { repository: next, timeline: timelineOf(runtime, arn, sentAt), status };
}

async function pipelinePart(root: string): Promise<boolean> {
  console.log(`\n1. The demo pipeline ${RUNS} times (build, 2 test suites, staging, approval, production)`);
  let repository = await createSampleRepository(join(root, 'pipeline-repo'));
  const runtime = await startBenchRuntime(root, 'pipeline-state', repository);
  const stopApproving = autoApprove(runtime);
  try {
    const warming = Date.now();
    await runtime.warm();
    console.log(`   runtime.warm(): ${ms(Date.now() - warming)} (the deploy functions' Kubernetes client)`);
    const cold = await onePipeline(runtime, repository, 0);
    repository = cold.repository;
    console.log(
      `   cold run (not counted): ${cold.status}, ${ms(cold.timeline.total)} in all, overhead ${ms(cold.timeline.overhead)} (intake ${ms(cold.timeline.byCategory.intake)})`,
    );
    console.log(`   load average before: ${load()}`);
    const timelines: Timeline[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const run = await onePipeline(runtime, repository, i);
      repository = run.repository;
      if (run.status !== 'SUCCEEDED') throw new Error(`run ${i} ended ${run.status}`);
      timelines.push(run.timeline);
      process.stdout.write(
        `   run ${String(i).padStart(2)}: total ${ms(run.timeline.total).padStart(7)}, commands ${ms(run.timeline.byCategory.commands).padStart(7)}, rollout ${ms(run.timeline.byCategory.rollout).padStart(7)}, overhead ${ms(run.timeline.overhead).padStart(6)}\n`,
      );
    }
    console.log(`   load average after:  ${load()}`);
    const overheads = timelines.map((t) => t.overhead);
    const p50 = median(overheads);
    const p90 = quantile(overheads, 0.9);
    console.log('');
    console.log(
      `   orchestration overhead (webhook → SUCCEEDED minus buildspec commands and rollout waits), ${RUNS} runs:`,
    );
    console.log(
      `     median ${ms(p50)}   p90 ${ms(p90)}   min ${ms(Math.min(...overheads))}   max ${ms(Math.max(...overheads))}`,
    );
    console.log(`     target: median <= ${OVERHEAD_TARGET_MS} ms: ${met(p50 <= OVERHEAD_TARGET_MS)}`);
    console.log(`     baseline (ADR 0085, before ADR 0086): ${BASELINE.overhead}`);
    console.log(
      `   whole run: median ${ms(median(timelines.map((t) => t.total)))} = ${ms(median(timelines.map((t) => t.byCategory.commands)))} commands + ${ms(median(timelines.map((t) => t.byCategory.rollout)))} rollout waits + overhead`,
    );
    console.log('');
    console.log('   where the overhead goes (median per run; each instant counted once, in this order):');
    const parts = CATEGORIES.filter((c: Category) => !WORK.includes(c));
    const rows = parts.map((c) => {
      const values = timelines.map((t) => t.byCategory[c]);
      return { c, median: median(values), mean: values.reduce((a, b) => a + b, 0) / values.length };
    });
    const meanOverhead = overheads.reduce((a, b) => a + b, 0) / overheads.length;
    for (const row of rows) {
      console.log(
        `     ${ms(row.median).padStart(7)}   ${`${((row.mean / meanOverhead) * 100).toFixed(0)}%`.padStart(4)} of the mean   ${CATEGORY_LABELS[row.c]}`,
      );
    }
    return p50 <= OVERHEAD_TARGET_MS;
  } finally {
    stopApproving();
    await runtime.stop();
  }
}

interface Sent {
  /** The place of the send in the burst (0 first). */
  readonly order: number;
  readonly deliveryId: string;
  readonly redelivery: boolean;
  readonly status: number;
  readonly answer: string;
  readonly executionArn: string | null;
  readonly latencyMs: number;
}

interface RuntimeProcess {
  readonly url: string;
  /** The runtime's own process (tsx runs it in a child of the one spawned). */
  readonly pid: number;
  stop(): Promise<void>;
}

/** `stepline start` in its own process, as `npm start` runs it: the burst's sender is not the runtime's process. */
async function startRuntimeProcess(dir: string, configFile: string, secret: string): Promise<RuntimeProcess> {
  const child = spawn(
    TSX,
    [CLI, 'start', '--port', '0', '--state-dir', dir, '--config', configFile, '--simulated', '--no-console', '--json'],
    {
      cwd: ROOT,
      env: { ...demoEnvironment(), WEBHOOK_SECRET: secret, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-4000);
  });
  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`stepline start did not get ready in 60 s: ${errors}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        if (line.includes('"type":"ready"')) {
          clearTimeout(timer);
          const event = JSON.parse(line) as { url: string; pid: number };
          resolve({ url: event.url, pid: event.pid });
        }
      }
      if (buffer.length > 100_000) buffer = '';
    });
    child.once('exit', (code) => reject(new Error(`stepline start exited ${code}: ${errors}`)));
  });
  return {
    ...ready,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** CPU time (user + system) of a process so far, in milliseconds (Linux). */
function cpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

/** Every execution the runtime holds, newest first, through the JSON API's pages. */
async function listExecutions(url: string, status?: string): Promise<{ name: string; status: string }[]> {
  const all: { name: string; status: string }[] = [];
  let next: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '1000', ...(status ? { status } : {}), ...(next ? { next } : {}) });
    const page = await getJson(`${url}/api/executions?${query}`);
    all.push(...(page['executions'] as { name: string; status: string }[]));
    next = (page['next'] as string | null) ?? null;
  } while (next);
  return all;
}

async function waitUntilIdle(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await listExecutions(url, 'RUNNING')).length > 0) {
    if (Date.now() > deadline) throw new Error(`executions still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until no execution runs and the number of executions has not moved for 3 s (late retries included). */
async function settle(url: string): Promise<void> {
  await waitUntilIdle(url, 300_000);
  let count = (await listExecutions(url)).length;
  let stableSince = Date.now();
  while (Date.now() - stableSince < 3000) {
    await new Promise((r) => setTimeout(r, 250));
    const now = (await listExecutions(url)).length;
    if (now !== count) {
      count = now;
      stableSince = Date.now();
      await waitUntilIdle(url, 300_000);
    }
  }
}

async function burstPart(root: string): Promise<boolean> {
  const redeliveries = Math.round(DELIVERIES * REDELIVERY_SHARE);
  const unique = DELIVERIES - redeliveries;
  console.log(
    `\n2. A burst of ${DELIVERIES} signed deliveries: ${unique} unique, ${redeliveries} redeliveries, ${CONCURRENCY} clients at once`,
  );
  console.log(
    '   runtime: `stepline start` in its own process; pushes that change only README.md (excluded: short skip runs)',
  );
  const first = await createSampleRepository(join(root, 'burst-repo'));
  // A push that changes only README.md: the configuration's paths exclude **/*.md, so each run is a short skip.
  const repository = await commitChange(first, { 'README.md': '# hello-service\n\nDocs only.\n' }, 'Docs');
  const secret = randomBytes(24).toString('base64url');
  const runtime = await startRuntimeProcess(join(root, 'burst-state'), repository.configFile, secret);
  try {
    // One delivery first, so that the webhook function's first load is not part of the burst.
    const warmup = await deliver(runtime.url, githubPush(repository, secret));
    if (warmup.body['status'] !== 'skipped') {
      throw new Error(`the warm-up push was not skipped: ${warmup.status} ${JSON.stringify(warmup.body)}`);
    }
    await waitUntilIdle(runtime.url, 60_000);
    const before = (await listExecutions(runtime.url)).length;

    const originals = Array.from({ length: unique }, () =>
      githubPush(repository, secret, { deliveryId: randomUUID() }),
    );
    // Each redelivery goes out 1 to 64 places after its original: some while the original is still in flight.
    const queue: { delivery: (typeof originals)[number]; redelivery: boolean }[] = originals.map((delivery) => ({
      delivery,
      redelivery: false,
    }));
    for (let k = 0; k < redeliveries; k++) {
      const original = originals[Math.floor((k / redeliveries) * unique)] as (typeof originals)[number];
      const at = queue.findIndex((q) => q.delivery === original) + 1 + Math.floor(Math.random() * 64);
      queue.splice(Math.min(queue.length, at), 0, { delivery: original, redelivery: true });
    }

    console.log(`   load average before: ${load()}`);
    const cpuBefore = cpuMs(runtime.pid);
    const sent: Sent[] = [];
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (;;) {
          const order = next++;
          const item = queue[order];
          if (!item) return;
          const t0 = process.hrtime.bigint();
          // As GitHub does, give up on an answer after 10 s (the delivery is then marked failed).
          const answer = await deliver(runtime.url, item.delivery, AbortSignal.timeout(SENDER_TIMEOUT_MS)).catch(
            (error: Error): WebhookAnswer => ({
              status: 0,
              body: {
                error: error.name === 'TimeoutError' ? 'no answer within 10 s' : `${error.name}: ${error.message}`,
              },
            }),
          );
          const latencyMs = Number(process.hrtime.bigint() - t0) / 1e6;
          sent.push({
            order,
            deliveryId: item.delivery.id,
            redelivery: item.redelivery,
            status: answer.status,
            answer: String(answer.body['status'] ?? answer.body['error']),
            executionArn: typeof answer.body['executionArn'] === 'string' ? answer.body['executionArn'] : null,
            latencyMs,
          });
        }
      }),
    );
    const burstSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const loadAfterBurst = load();
    const drained = Date.now();
    await settle(runtime.url);
    const drainSeconds = (Date.now() - drained) / 1000;
    const cpuAfter = cpuMs(runtime.pid);
    // A delivery whose StartExecution failed is parked and replayed by the runtime every minute (ADR 0005): replay
    // now, as `stepline replay` does, rather than wait for the minute.
    const parked = Number((await getJson(`${runtime.url}/api/parked`))['parked'] ?? 0);
    const startedBeforeReplay = (await listExecutions(runtime.url)).length - before;
    let replayed: Record<string, unknown> | null = null;
    if (parked > 0) {
      const response = await fetch(`${runtime.url}/api/parked/replay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      replayed = (await response.json()) as Record<string, unknown>;
      await settle(runtime.url);
    }

    // Newest first: the executions the burst started come before the warm-up's.
    const all = await listExecutions(runtime.url);
    const created = all.length - before;
    const executions = all.slice(0, created);
    // An execution's name ends with its delivery id (ADR 0002).
    const ids = new Set(originals.map((o) => o.id));
    const byDelivery = new Map<string, number>();
    for (const e of executions) {
      const id = e.name.slice(-36);
      if (ids.has(id)) byDelivery.set(id, (byDelivery.get(id) ?? 0) + 1);
    }
    // Lost: a delivery the runtime answered 2xx (accepted) that has no execution. A delivery the sender gave up on
    // (no answer within 10 s) and that has no execution is counted apart: GitHub marks it failed, to redeliver.
    const answered = new Set(sent.filter((s) => s.status >= 200 && s.status < 300).map((s) => s.deliveryId));
    const missing = originals.filter((o) => !byDelivery.has(o.id));
    const lost = missing.filter((o) => answered.has(o.id)).length;
    const notReceived = missing.length - lost;
    const duplicated = [...byDelivery.values()].reduce((n, count) => n + count - 1, 0) + (created - byDelivery.size);
    const statuses = new Map<string, number>();
    for (const e of executions) statuses.set(e.status, (statuses.get(e.status) ?? 0) + 1);
    const answers = new Map<string, number>();
    for (const s of sent) {
      const key = `${s.redelivery ? 'redelivery' : 'original  '}  ${s.status} ${s.answer}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    }
    // Every answer that named an execution named the same one for a delivery.
    const arnOf = new Map<string, Set<string>>();
    for (const s of sent) {
      if (s.executionArn) arnOf.set(s.deliveryId, (arnOf.get(s.deliveryId) ?? new Set()).add(s.executionArn));
    }
    const consistent = [...arnOf.values()].filter((set) => set.size === 1).length;
    const unanswered = sent.filter((s) => s.status === 0).length;
    const latencies = sent.map((s) => s.latencyMs);

    console.log(`   load average after the burst: ${loadAfterBurst}`);
    console.log(
      `   sent ${sent.length} in ${burstSeconds.toFixed(2)} s (${Math.round(sent.length / burstSeconds)} deliveries/s); every run had ended, and nothing more started for 3 s, ${drainSeconds.toFixed(1)} s after the last answer`,
    );
    if (cpuBefore !== null && cpuAfter !== null) {
      console.log(
        `   the runtime's CPU time: ${ms(cpuAfter - cpuBefore)} for the burst and its runs, ${((cpuAfter - cpuBefore) / unique).toFixed(1)} ms per unique delivery`,
      );
    }
    console.log('   answers (a redelivery sent while its original is in flight can be answered first):');
    for (const [key, count] of [...answers].sort()) console.log(`     ${String(count).padStart(5)}  ${key}`);
    console.log(
      `   deliveries whose answers all named the same one execution: ${consistent} of ${unique}; answers missing (the sender gave up after 10 s): ${unanswered}`,
    );
    console.log(
      `   executions in the store: ${created} new (${[...statuses].map(([s, n]) => `${n} ${s}`).join(', ')})`,
    );
    console.log(
      parked > 0
        ? `   parked after the burst (StartExecution failed, replayed at the runtime's next minute): ${parked}; ${startedBeforeReplay} executions before the replay, which started ${String(replayed?.['started'])}, found ${String(replayed?.['duplicate'])} already started, left ${String(replayed?.['failed'])}`
        : '   parked after the burst: 0',
    );
    const exact = created === unique && lost === 0 && duplicated === 0 && consistent === arnOf.size;
    console.log(
      `   executions started ${created} = unique deliveries ${unique}: ${lost} lost, ${duplicated} duplicated   target: 0 lost, 0 duplicated: ${met(exact)}`,
    );
    if (notReceived > 0 || lost > 0) {
      console.log(
        `     of the ${missing.length} unique deliveries without an execution, ${lost} were answered 2xx (accepted, then lost) and ${notReceived} got no answer within 10 s (GitHub shows those failed, to redeliver)`,
      );
    }
    console.log(
      `   webhook latency (client side, ${CONCURRENCY} in flight): p50 ${ms(median(latencies))}   p99 ${ms(quantile(latencies, 0.99))}   max ${ms(Math.max(...latencies))}`,
    );
    console.log(
      `     originals p50 ${ms(median(sent.filter((s) => !s.redelivery).map((s) => s.latencyMs)))}, redeliveries p50 ${ms(median(sent.filter((s) => s.redelivery).map((s) => s.latencyMs)))}   (no latency target in the issue; GitHub gives up on a delivery after 10 s)`,
    );
    // Each client's first send opens a connection, all of them in the same instant at the start of the burst; they
    // are where the long answers are (ADR 0086), so they are shown apart from the sends on open connections.
    const opening = sent.filter((s) => s.order < CONCURRENCY).map((s) => s.latencyMs);
    const kept = sent.filter((s) => s.order >= CONCURRENCY).map((s) => s.latencyMs);
    console.log(
      `     each client's first send (opens a connection): p50 ${ms(median(opening))}, max ${ms(Math.max(...opening))}; the other sends: p99 ${ms(quantile(kept, 0.99))}, max ${ms(Math.max(...kept))}`,
    );
    console.log(`     baseline (ADR 0085, before ADR 0086): ${BASELINE.burst}`);
    return exact;
  } finally {
    await runtime.stop();
  }
}

async function main(): Promise<void> {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  console.log('Stepline local end-to-end benchmark (issue 7)');
  console.log(
    `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average at start: ${load()}, buildah: ${buildahAvailable() ? 'yes' : 'no'}`,
  );
  const root = mkdtempSync(join(tmpdir(), 'stepline-bench-e2e-'));
  let ok = true;
  try {
    if (PART === 'all' || PART === 'pipeline') ok = (await pipelinePart(root)) && ok;
    if (PART === 'all' || PART === 'burst') ok = (await burstPart(root)) && ok;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`\nload average at the end: ${load()}`);
  process.exit(ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
