import { parseArgs } from 'node:util';
import { SteplineError } from '../core/errors';
import { awsCommand, steplineCommand } from './bin/hints';
import type { CliIo, Flags } from './bin/io';
import type { Runtime, RuntimeOptions } from './runtime';

/**
 * The `stepline` command line.
 *
 *   stepline start [--port N] [--host H] [--state-dir DIR] [--config FILE] [--kubeconfig FILE [--context NAME]]
 *                  [--as LOGIN] [--no-resume] [--no-console] [--log-format text|json] [--listen-public] [--json]
 *   stepline executions list [--status S] [--repository R] [--limit N] [--json]
 *   stepline executions show <execution> [--json]
 *   stepline executions history <execution> [--json]
 *   stepline approve <approval-id | execution> [--as LOGIN] [--reason TEXT] [--json]
 *   stepline reject <approval-id | execution> [--as LOGIN] [--reason TEXT] [--json]
 *   stepline approvals [--status waiting] [--json]
 *   stepline replay [<delivery>] [--json]          parked deliveries: replay one (execution name) or all
 *   stepline redrive <execution> [--json]
 *   stepline run <repository> <branch|tag|sha> [--environments a,b] [--sha SHA] [--as LOGIN] [--json]   (bin/run.ts)
 *   stepline run <repository> <ref> --sha SHA --aws [--config FILE]   the `aws stepfunctions start-execution` command
 *   stepline rerun <execution> [--from-failed] [--as LOGIN] [--json]
 *   stepline deploy --image REPO@sha256:… --commit SHA --ref REF --repository R [--environments a,b] [--tests]
 *                   [--manifests LOC] [--build-url URL] [--source NAME] [--secret-file F] [--delivery ID]   (bin/deploy.ts)
 *   stepline statuses [--repository R] [--sha SHA] [--json]
 *   stepline metrics dora [--environment E] [--repository R] [--since 30d] [--json] [--backfill]   (bin/metrics.ts)
 *   stepline metrics dora --aws [--stack-name NAME] [--region R] [--deployments-table T] [--state-machine-arn ARN]
 *                         [--tokens-secret ARN] [same options]   the deployed platform's records (bin/metrics-aws.ts)
 *   stepline demo [--port N] [--keep] [--manual-approval] [--canary | --gitops] [--break build|test|metrics] [--json]
 *
 * Every command but `start` talks to a running runtime over HTTP: `--url`, else `STEPLINE_URL`, else
 * `http://127.0.0.1:$PORT` (8080). `<execution>` is an execution name or ARN. Exit codes: 0 done, 1 the runtime
 * answered an error (or the thing asked for does not exist), 2 a usage error, 3 the runtime cannot be reached.
 */

type Command = (args: string[], flags: Flags) => Promise<number>;

/** The command line was used wrongly: the CLI says how, and exits 2. */
class UsageError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

const USAGE = `usage: stepline <command> [options]

  start                         run the local runtime (one process, one HTTP server); --as LOGIN: whom the
                                console and the CLI decide as (default: git config user.email's login, $USER);
                                --log-format text|json (default: text on a terminal, else JSON lines);
                                --listen-public: allow a --host beyond loopback (the AWS APIs then need SigV4)
  executions list|show|history  read executions and their history
  approve|reject <id|execution> decide an approval gate, as the runtime's identity or --as LOGIN
  approvals                     list approval requests
  replay [<delivery>]           start parked deliveries again
  redrive <execution>           continue a failed execution where it stopped
  run <repository> <ref>        start a pipeline for a branch, tag or commit, as a push would (--environments a,b
                                narrows the environments; --sha SHA --aws prints the AWS CLI command instead)
  rerun <execution>             start a finished run again for its commit (--from-failed: from the failed environment)
  deploy --image REPO@sha256:…  deploy an image another CI built: --commit SHA --ref REF --repository R
                                [--environments a,b] [--tests] [--manifests LOC] [--source NAME] [--secret-file F]
  statuses                      commit statuses the local Git host sink received
  metrics dora                  DORA's four keys per environment from the recorded deploys (--environment E,
                                --repository R, --since 30d; --backfill: first record the runs held before;
                                --aws [--stack-name NAME] [--region R]: the deployed platform's, with AWS credentials)
  demo                          run the sample pipeline end to end: a signed push to a sample service,
                                built, tested and deployed here (--keep, --port N, --manual-approval,
                                --break build|test, --json; --canary: staging as a canary gated by
                                metrics, --canary --break metrics: one the analysis aborts; --gitops:
                                staging handed to Argo CD through a git repository)

Options: --url URL (default $STEPLINE_URL or http://127.0.0.1:8080), --json for machine-readable output.`;

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Prints a line and answers exit code 0. */
function print(line: string): number {
  out(line);
  return 0;
}

function baseUrl(flags: Flags): string {
  const url = typeof flags['url'] === 'string' ? flags['url'] : process.env['STEPLINE_URL'];
  return (url ?? `http://127.0.0.1:${process.env['PORT'] ?? '8080'}`).replace(/\/+$/, '');
}

/** The runtime answered with an error: its message, or the HTTP status. */
class ApiError extends SteplineError {
  public constructor(
    public readonly status: number,
    public readonly body: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(typeof body['message'] === 'string' ? body['message'] : `HTTP ${status}`, options);
    this.name = 'ApiError';
  }
}

/** No runtime answered at the URL: the CLI says how to start one, and exits 3. */
class UnreachableError extends SteplineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnreachableError';
  }
}

async function api(
  flags: Flags,
  path: string,
  init?: { method?: string; body?: unknown },
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl(flags)}${path}`, {
      method: init?.method ?? 'GET',
      ...(init?.body !== undefined
        ? { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }
        : {}),
    });
  } catch (error) {
    throw new UnreachableError(
      `cannot reach the Stepline runtime at ${baseUrl(flags)} (${(error as Error).message}): start it with \`${steplineCommand()} start\` (or \`npm start\`), or give --url`,
      { cause: error },
    );
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok && !(response.status >= 400 && 'outcome' in body)) throw new ApiError(response.status, body);
  return { ...body, __status: response.status };
}

async function executionArnOf(flags: Flags, ref: string | undefined): Promise<string> {
  if (!ref) throw new UsageError('name the execution (its name or ARN)');
  if (ref.startsWith('arn:')) return ref;
  const runtime = await api(flags, '/api/runtime');
  return `${String(runtime['stateMachineArn']).replace(':stateMachine:', ':execution:')}:${ref}`;
}

// ------------------------------------------------------------------------------------------------ commands

/** What `stepline start` prints once the runtime listens: one `ready` JSON line, or where each part is. */
function printReady(runtime: Runtime, flags: Flags, served: boolean, problem: string | null): void {
  if (flags['json']) {
    out(
      JSON.stringify({
        type: 'ready',
        url: runtime.url,
        port: runtime.port,
        pid: process.pid,
        stateDir: runtime.stateDir,
        stateMachineArn: runtime.stateMachineArn,
        pipelineLoaded: runtime.pipelineLoaded,
        kubernetes: runtime.kubernetes,
        recovered: runtime.recovered,
      }),
    );
  } else {
    out(`Stepline is running at ${runtime.url} (state in ${runtime.stateDir})`);
    out(
      `  webhooks        ${runtime.url}/webhooks/{github,gitlab,bitbucket}  (secret: WEBHOOK_SECRET, else ${runtime.stateDir}/webhook-secret)`,
    );
    out(
      `  hand-offs       ${runtime.url}/webhooks/generic  (stepline deploy; secrets per source: ${runtime.stateDir}/handoff-secrets.json)`,
    );
    out(
      `  Step Functions  ${awsCommand(runtime.url)} stepfunctions list-executions --state-machine-arn ${runtime.stateMachineArn}`,
    );
    out(
      runtime.kubernetes.simulated
        ? `  Kubernetes      simulated API server at ${runtime.kubernetes.server} (no containers run): kubectl --kubeconfig ${runtime.kubernetes.kubeconfig} get deploy -A`
        : `  Kubernetes      ${runtime.kubernetes.kubeconfig}${runtime.kubernetes.context ? ` (context ${runtime.kubernetes.context})` : ''}`,
    );
    out(`  statuses        ${runtime.url}/api/statuses (the local Git host sink), metrics ${runtime.url}/metrics`);
    out(`  CLI             ${steplineCommand()} executions list --url ${runtime.url}`);
    out(served ? `  console         ${runtime.url}/` : `  console         not served${problem ? ` (${problem})` : ''}`);
    if (!runtime.pipelineLoaded)
      out('  warning         no pipeline definition found: deliveries are parked until there is one');
  }
}

const start: Command = async (_args, flags) => {
  const { startRuntime } = await import('./runtime');
  // Readable lines for a person at a terminal; JSON lines (as on Lambda) for a file, a pipe or a log collector.
  const format = flags['json'] ? 'json' : (flags['log-format'] ?? (process.stdout.isTTY ? 'text' : 'json'));
  if (format !== 'text' && format !== 'json') throw new UsageError(`--log-format takes text or json, not "${format}"`);
  const log = (message: string, keys: Record<string, unknown> = {}): void => {
    if (flags['json']) out(JSON.stringify({ type: 'log', message, ...keys }));
    else if (format === 'json')
      out(
        JSON.stringify({ level: 'INFO', message, timestamp: new Date().toISOString(), service: 'stepline', ...keys }),
      );
    else out(`stepline: ${message}`);
  };
  const options: { -readonly [K in keyof RuntimeOptions]: RuntimeOptions[K] } = { log, logFormat: format };
  if (typeof flags['port'] === 'string') options.port = Number(flags['port']);
  if (typeof flags['host'] === 'string') options.host = flags['host'];
  if (flags['listen-public']) options.listenPublic = true;
  if (typeof flags['state-dir'] === 'string') options.stateDir = flags['state-dir'];
  if (typeof flags['config'] === 'string') options.config = flags['config'];
  if (typeof flags['kubeconfig'] === 'string') {
    options.kubernetes = {
      kubeconfig: flags['kubeconfig'],
      ...(typeof flags['context'] === 'string' ? { context: flags['context'] } : {}),
    };
  }
  if (flags['simulated']) options.kubernetes = 'simulated';
  if (flags['no-resume']) options.resumeOnRestart = false;
  if (typeof flags['as'] === 'string') options.identity = flags['as'];
  if (typeof flags['definition'] === 'string') options.definitionFile = flags['definition'];
  // The web console (local/console, issue 8) owns `GET /`, `/executions/*`, `/ui/*` and `/api/console/*`. A console
  // that cannot be loaded leaves the runtime without it, and says so.
  let consoleHandler: { close(): void } | null = null;
  let consoleProblem: string | null = null;
  if (!flags['no-console']) {
    try {
      const web = await import('./console');
      options.extend = (router, started) => {
        const handler = web.createConsoleRoutes(web.runtimeConsoleSource(started));
        consoleHandler = handler;
        web.mountConsole(router, handler);
      };
    } catch (error) {
      consoleProblem = (error as Error).message;
    }
  }
  let runtime: Runtime;
  try {
    runtime = await startRuntime(options);
  } catch (error) {
    process.stderr.write(`stepline: could not start: ${(error as Error).message}\n`);
    return 1;
  }
  printReady(runtime, flags, consoleHandler !== null, consoleProblem);
  runtime.events.on('event', (event: Record<string, unknown>) => {
    if (flags['json']) {
      if (event['type'] === 'execution' || event['type'] === 'build') out(JSON.stringify(event));
      return;
    }
    if (event['type'] === 'execution') {
      const e = event['execution'] as Record<string, unknown>;
      const keys = { execution: e['name'], status: e['status'], ...(e['error'] ? { error: e['error'] } : {}) };
      log(`${e['name']} ${e['status']}${e['error'] ? ` (${e['error']})` : ''}`, keys);
    }
    if (event['type'] === 'history' && (event['event'] as { type?: string }).type === 'ExecutionStarted') {
      const name = String(event['executionArn']).split(':').pop();
      log(`${name} started`, { execution: name, status: 'RUNNING' });
    }
  });
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  (consoleHandler as { close(): void } | null)?.close();
  await runtime.stop();
  // Timers of executions that were stopped in memory would keep the process alive.
  process.exit(0);
};

/** What a refused decision means, when the runtime sends no message of its own. */
const OUTCOMES: Readonly<Record<string, string>> = {
  decided: 'it was decided already',
  expired: 'it has expired, or its run no longer waits',
  unknown: 'no approval has this id',
  retry: 'the run could not be told just now; try again',
};

/** An approval id: 22 base64url characters (older ids may start with "-"). */
const APPROVAL_ID = /^[A-Za-z0-9_-]{22}$/;

function decide(decision: 'approve' | 'reject'): Command {
  return async (args, flags) => {
    const ref = args[0];
    if (!ref) throw new UsageError(`stepline ${decision} <approval-id | execution>`);
    let id = ref;
    if (!APPROVAL_ID.test(ref)) {
      const arn = await executionArnOf(flags, ref);
      const body = await api(flags, `/api/approvals?status=waiting&execution=${encodeURIComponent(arn)}`);
      const waiting = body['approvals'] as { id: string; environment: string }[];
      if (waiting.length === 0) {
        process.stderr.write(`stepline: no approval is waiting for ${ref}\n`);
        return 1;
      }
      if (waiting.length > 1) {
        process.stderr.write(
          `stepline: several approvals wait for ${ref}: ${waiting.map((w) => `${w.id} (${w.environment})`).join(', ')}; name one\n`,
        );
        return 1;
      }
      id = waiting[0]!.id;
    }
    // Without --as, the runtime decides as its one local identity (the console's header shows it).
    const by = typeof flags['as'] === 'string' ? flags['as'] : undefined;
    const body = await api(flags, `/api/approvals/${encodeURIComponent(id)}/decision`, {
      method: 'POST',
      body: {
        decision,
        ...(by ? { by } : {}),
        ...(typeof flags['reason'] === 'string' ? { reason: flags['reason'] } : {}),
      },
    });
    const done = decision === 'approve' ? 'approved' : 'rejected';
    const ok = body['outcome'] === done;
    const approval = body['approval'] as Record<string, unknown> | undefined;
    if (flags['json']) out(JSON.stringify({ outcome: body['outcome'], approval: approval ?? null }));
    else if (ok) out(`${done}: ${approval?.['environment'] ?? id} (as ${String(approval?.['decidedBy'] ?? by)})`);
    else {
      const why = typeof body['message'] === 'string' ? body['message'] : OUTCOMES[String(body['outcome'])];
      process.stderr.write(`stepline: not ${done}: ${why ?? String(body['outcome'])}\n`);
    }
    return ok ? 0 : 1;
  };
}

const replay: Command = async (args, flags) => {
  const body = await api(flags, '/api/parked/replay', { method: 'POST', body: args[0] ? { name: args[0] } : {} });
  delete body['__status'];
  if (flags['json']) return print(JSON.stringify(body));
  const results = (body['results'] as Record<string, unknown>[]) ?? [];
  if (results.length === 0) out('no parked deliveries');
  for (const r of results) out(`${r['name']}: ${r['outcome']}${r['reason'] ? ` (${r['reason']})` : ''}`);
  return Number(body['failed'] ?? 0) > 0 ? 1 : 0;
};

const redrive: Command = async (args, flags) => {
  const arn = await executionArnOf(flags, args[0]);
  const { SFNClient, RedriveExecutionCommand } = await import('@aws-sdk/client-sfn');
  const client = new SFNClient({
    endpoint: baseUrl(flags),
    region: 'us-east-1',
    credentials: { accessKeyId: 'stepline-local', secretAccessKey: 'stepline-local' },
    maxAttempts: 1,
  });
  try {
    const result = await client.send(new RedriveExecutionCommand({ executionArn: arn }));
    if (flags['json']) out(JSON.stringify({ executionArn: arn, redriveDate: result.redriveDate }));
    else out(`redriven: ${arn}`);
    return 0;
  } catch (error) {
    process.stderr.write(`stepline: ${(error as Error).name}: ${(error as Error).message}\n`);
    return 1;
  } finally {
    client.destroy();
  }
};

/** What the command modules of local/bin need of this CLI. */
function cliIo(flags: Flags): CliIo {
  return {
    api: (path: string, init?: { method?: string; body?: unknown }) =>
      api(flags, path, init).then(({ __status: _, ...body }) => body),
    out,
    usage: (message: string) => new UsageError(message),
    executionArnOf: (ref: string | undefined) => executionArnOf(flags, ref),
    baseUrl: () => baseUrl(flags),
  };
}

/** The commands. `demo` lives in local/demo and is loaded only when asked for. */
export const COMMANDS: Record<string, Command> = {
  run: async (args, flags) => (await import('./bin/run')).runCommand(args, flags, cliIo(flags)),
  rerun: async (args, flags) => (await import('./bin/run')).rerunCommand(args, flags, cliIo(flags)),
  deploy: async (args, flags) => (await import('./bin/deploy')).deployCommand(args, flags, cliIo(flags)),
  start,
  executions: async (args, flags) => (await import('./bin/read')).executionsCommand(args, flags, cliIo(flags)),
  approve: decide('approve'),
  reject: decide('reject'),
  approvals: async (args, flags) => (await import('./bin/read')).approvalsCommand(args, flags, cliIo(flags)),
  replay,
  redrive,
  statuses: async (args, flags) => (await import('./bin/read')).statusesCommand(args, flags, cliIo(flags)),
  metrics: async (args, flags) => (await import('./bin/metrics')).metricsCommand(args, flags, cliIo(flags)),
  demo: async (args, flags) => {
    const code = await (await import('./demo')).demoCommand(args, flags);
    // Timers of the stopped runtime's executions would keep the process alive; exit once the output is written.
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    process.exit(code);
  },
};

/**
 * Arguments with an approval id that starts with "-" (ids made before they never did) moved after `--`, so that
 * `stepline approve -AbC…` is not read as options; an option's own value is left where it is.
 */
export function positionalIds(argv: readonly string[]): string[] {
  const takesValue = new Set([
    '--url',
    '--port',
    '-p',
    '--host',
    '--state-dir',
    '--config',
    '-c',
    '--kubeconfig',
    '--context',
    '--definition',
    '--status',
    '--repository',
    '--sha',
    '--limit',
    '--as',
    '--reason',
    '--break',
    '--log-format',
    '--environments',
    '--route-as',
    '--clone-url',
    '--image',
    '--commit',
    '--ref',
    '--manifests',
    '--build-url',
    '--source',
    '--secret-file',
    '--delivery',
    '--stack-name',
    '--environment',
    '--since',
    '--region',
    '--deployments-table',
    '--state-machine-arn',
    '--tokens-secret',
  ]);
  const end = argv.indexOf('--');
  const head = end === -1 ? [...argv] : argv.slice(0, end);
  const tail = end === -1 ? [] : argv.slice(end + 1);
  const keep: string[] = [];
  const moved: string[] = [];
  head.forEach((arg, i) => {
    const isValue = i > 0 && takesValue.has(head[i - 1]!);
    if (!isValue && arg.startsWith('-') && APPROVAL_ID.test(arg) && !takesValue.has(arg)) moved.push(arg);
    else keep.push(arg);
  });
  return moved.length || end !== -1 ? [...keep, '--', ...moved, ...tail] : keep;
}

export async function main(argv: readonly string[]): Promise<number> {
  // The SDK's note about Node 22 says nothing a user of the CLI can act on.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: positionalIds(argv),
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: 'string' },
        json: { type: 'boolean' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'state-dir': { type: 'string' },
        config: { type: 'string', short: 'c' },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        simulated: { type: 'boolean' },
        'no-resume': { type: 'boolean' },
        'no-console': { type: 'boolean' },
        'listen-public': { type: 'boolean' },
        definition: { type: 'string' },
        status: { type: 'string' },
        repository: { type: 'string' },
        sha: { type: 'string' },
        limit: { type: 'string' },
        as: { type: 'string' },
        reason: { type: 'string' },
        keep: { type: 'boolean' },
        'manual-approval': { type: 'boolean' },
        canary: { type: 'boolean' },
        gitops: { type: 'boolean' },
        break: { type: 'string' },
        'log-format': { type: 'string' },
        environments: { type: 'string' },
        'route-as': { type: 'string' },
        'clone-url': { type: 'string' },
        image: { type: 'string' },
        commit: { type: 'string' },
        ref: { type: 'string' },
        manifests: { type: 'string' },
        tests: { type: 'boolean' },
        'build-url': { type: 'string' },
        source: { type: 'string' },
        'secret-file': { type: 'string' },
        delivery: { type: 'string' },
        'stack-name': { type: 'string' },
        environment: { type: 'string' },
        since: { type: 'string' },
        backfill: { type: 'boolean' },
        aws: { type: 'boolean' },
        region: { type: 'string' },
        'deployments-table': { type: 'string' },
        'state-machine-arn': { type: 'string' },
        'tokens-secret': { type: 'string' },
        'from-failed': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`stepline: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const [name, ...args] = parsed.positionals;
  if (!name || parsed.values['help']) {
    out(USAGE);
    // `stepline --help` asked for it; `stepline` alone is a usage error.
    return name || parsed.values['help'] ? 0 : 2;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`stepline: unknown command "${name}"\n${USAGE}\n`);
    return 2;
  }
  try {
    return await command(args, parsed.values as Flags);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`stepline: ${error.message}\n`);
      return 2;
    }
    if (error instanceof UnreachableError) {
      process.stderr.write(`stepline: ${error.message}\n`);
      return 3;
    }
    if (error instanceof ApiError) {
      process.stderr.write(`stepline: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/**
 * Runs the command line as a shell runs it (`stepline …`, `npm start`): the exit code set from `main`, a reader that
 * goes away (`stepline executions history … | head`) is not an error of ours (exit 0, no stack trace).
 */
export function runFromShell(argv: readonly string[]): void {
  const quietOnEpipe = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  };
  process.stdout.on('error', quietOnEpipe);
  process.stderr.on('error', quietOnEpipe);
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`stepline: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) runFromShell(process.argv.slice(2));
