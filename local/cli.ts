import { parseArgs } from 'node:util';
import type { Runtime, RuntimeOptions } from './runtime';

/**
 * The `stepline` command line.
 *
 *   stepline start [--port N] [--host H] [--state-dir DIR] [--config FILE] [--kubeconfig FILE [--context NAME]]
 *                  [--as LOGIN] [--no-resume] [--no-console] [--json]
 *   stepline executions list [--status S] [--repository R] [--limit N] [--json]
 *   stepline executions show <execution> [--json]
 *   stepline executions history <execution> [--json]
 *   stepline approve <approval-id | execution> [--as LOGIN] [--reason TEXT] [--json]
 *   stepline reject <approval-id | execution> [--as LOGIN] [--reason TEXT] [--json]
 *   stepline approvals [--status waiting] [--json]
 *   stepline replay [<delivery>] [--json]          parked deliveries: replay one (execution name) or all
 *   stepline redrive <execution> [--json]
 *   stepline statuses [--repository R] [--sha SHA] [--json]
 *   stepline demo [--port N] [--keep] [--manual-approval] [--break build|test] [--json]   (local/demo)
 *
 * Every command but `start` talks to a running runtime over HTTP: `--url`, else `STEPLINE_URL`, else
 * `http://127.0.0.1:$PORT` (8080). `<execution>` is an execution name or ARN. Exit codes: 0 done, 1 the runtime
 * answered an error (or the thing asked for does not exist), 2 a usage error, 3 the runtime cannot be reached.
 */

type Flags = Record<string, string | boolean | undefined>;
type Command = (args: string[], flags: Flags) => Promise<number>;

class UsageError extends Error {}

const USAGE = `usage: stepline <command> [options]

  start                         run the local runtime (one process, one HTTP server); --as LOGIN: whom the
                                console and the CLI decide as (default: git config user.email's login, $USER)
  executions list|show|history  read executions and their history
  approve|reject <id|execution> decide an approval gate, as the runtime's identity or --as LOGIN
  approvals                     list approval requests
  replay [<delivery>]           start parked deliveries again
  redrive <execution>           continue a failed execution where it stopped
  statuses                      commit statuses the local Git host sink received
  demo                          run the sample pipeline end to end: a signed push to a sample service,
                                built, tested and deployed here (--keep, --port N, --manual-approval,
                                --break build|test, --json)

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

class ApiError extends Error {
  public constructor(
    public readonly status: number,
    public readonly body: Record<string, unknown>,
  ) {
    super(typeof body['message'] === 'string' ? body['message'] : `HTTP ${status}`);
  }
}

class UnreachableError extends Error {}

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
      `cannot reach the Stepline runtime at ${baseUrl(flags)} (${(error as Error).message}): start it with \`stepline start\`, or give --url`,
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

function table(rows: string[][]): void {
  if (rows.length === 0) return;
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const row of rows)
    out(
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    );
}

function when(iso: unknown): string {
  return typeof iso === 'string' ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

function duration(start: unknown, stop: unknown): string {
  if (typeof start !== 'string') return '-';
  const ms = (typeof stop === 'string' ? Date.parse(stop) : Date.now()) - Date.parse(start);
  return ms < 1000 ? `${ms}ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 60_000)}m`;
}

// ------------------------------------------------------------------------------------------------ commands

const start: Command = async (_args, flags) => {
  const { startRuntime } = await import('./runtime');
  const options: { -readonly [K in keyof RuntimeOptions]: RuntimeOptions[K] } = {
    log: (line) => (flags['json'] ? out(JSON.stringify({ type: 'log', message: line })) : out(`stepline: ${line}`)),
  };
  if (typeof flags['port'] === 'string') options.port = Number(flags['port']);
  if (typeof flags['host'] === 'string') options.host = flags['host'];
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
      `  Step Functions  aws --endpoint-url ${runtime.url} stepfunctions list-executions --state-machine-arn ${runtime.stateMachineArn}`,
    );
    out(
      runtime.kubernetes.simulated
        ? `  Kubernetes      simulated API server at ${runtime.kubernetes.server} (no containers run): kubectl --kubeconfig ${runtime.kubernetes.kubeconfig} get deploy -A`
        : `  Kubernetes      ${runtime.kubernetes.kubeconfig}${runtime.kubernetes.context ? ` (context ${runtime.kubernetes.context})` : ''}`,
    );
    out(`  statuses        ${runtime.url}/api/statuses (the local Git host sink), metrics ${runtime.url}/metrics`);
    out(
      consoleHandler
        ? `  console         ${runtime.url}/`
        : `  console         not served${consoleProblem ? ` (${consoleProblem})` : ''}`,
    );
    if (!runtime.pipelineLoaded)
      out('  warning         no pipeline definition found: deliveries are parked until there is one');
  }
  runtime.events.on('event', (event: Record<string, unknown>) => {
    if (flags['json']) {
      if (event['type'] === 'execution' || event['type'] === 'build') out(JSON.stringify(event));
      return;
    }
    if (event['type'] === 'execution') {
      const e = event['execution'] as Record<string, unknown>;
      out(`stepline: ${e['name']} ${e['status']}${e['error'] ? ` (${e['error']})` : ''}`);
    }
    if (event['type'] === 'history' && (event['event'] as { type?: string }).type === 'ExecutionStarted') {
      out(`stepline: ${String(event['executionArn']).split(':').pop()} started`);
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

const executions: Command = async (args, flags) => {
  const [sub, ref] = args;
  if (sub === 'list' || sub === undefined) {
    const query = new URLSearchParams();
    if (typeof flags['status'] === 'string') query.set('status', flags['status'].toUpperCase());
    if (typeof flags['repository'] === 'string') query.set('repository', flags['repository']);
    query.set('limit', typeof flags['limit'] === 'string' ? flags['limit'] : '50');
    const body = await api(flags, `/api/executions?${query}`);
    const list = body['executions'] as Record<string, unknown>[];
    if (flags['json']) return print(JSON.stringify(list));
    if (list.length === 0) return print('no executions');
    table([
      ['NAME', 'STATUS', 'REPOSITORY', 'STARTED', 'DURATION'],
      ...list.map((e) => [
        String(e['name']),
        String(e['status']),
        String(e['repository'] ?? '-'),
        when(e['startDate']),
        duration(e['startDate'], e['stopDate']),
      ]),
    ]);
    return 0;
  }
  const arn = await executionArnOf(flags, ref);
  if (sub === 'show') {
    const e = await api(flags, `/api/executions/${encodeURIComponent(arn)}`);
    delete e['__status'];
    if (flags['json']) return print(JSON.stringify(e));
    out(`${e['name']}  ${e['status']}`);
    out(`  arn        ${e['executionArn']}`);
    out(`  repository ${e['repository'] ?? '-'}`);
    out(
      `  started    ${when(e['startDate'])}   stopped ${when(e['stopDate'])}   (${duration(e['startDate'], e['stopDate'])})`,
    );
    if (e['redriveCount']) out(`  redriven   ${e['redriveCount']} time(s), last ${when(e['redriveDate'])}`);
    if (e['error']) out(`  error      ${e['error']}: ${String(e['cause'] ?? '').slice(0, 400)}`);
    const builds = (e['builds'] as Record<string, unknown>[]) ?? [];
    if (builds.length) {
      out('  builds');
      for (const b of builds)
        out(`    ${b['step']}${b['suite'] ? `/${b['suite']}` : ''}  ${b['buildStatus']}  ${b['id']}  ${b['logUrl']}`);
    }
    const statuses = (e['statuses'] as Record<string, unknown>[]) ?? [];
    if (statuses.length) {
      out('  statuses');
      for (const s of statuses)
        out(`    ${String(s['context']).padEnd(28)} ${String(s['state']).padEnd(10)} ${s['description'] ?? ''}`);
    }
    const approvals = (e['approvals'] as Record<string, unknown>[]) ?? [];
    for (const a of approvals) out(`  approval   ${a['environment']}: ${a['status']}  ${a['id']}  ${a['url']}`);
    return 0;
  }
  if (sub === 'history') {
    const body = await api(flags, `/api/executions/${encodeURIComponent(arn)}/history`);
    const events = body['events'] as Record<string, unknown>[];
    if (flags['json']) return print(JSON.stringify(events));
    table([
      ['ID', 'TIME', 'TYPE', 'STATE', 'DETAIL'],
      ...events.map((event) => {
        const details = Object.entries(event).find(([k]) => k.endsWith('EventDetails'))?.[1] as
          | Record<string, unknown>
          | undefined;
        const detail = details?.['error'] ? `${details['error']}: ${String(details['cause'] ?? '').slice(0, 100)}` : '';
        return [
          String(event['id']),
          when(event['timestamp']),
          String(event['type']),
          String(details?.['name'] ?? ''),
          detail,
        ];
      }),
    ]);
    return 0;
  }
  throw new UsageError(`stepline executions ${sub}: use list, show or history`);
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

const approvals: Command = async (_args, flags) => {
  const query = typeof flags['status'] === 'string' ? `?status=${encodeURIComponent(flags['status'])}` : '';
  const body = await api(flags, `/api/approvals${query}`);
  const list = body['approvals'] as Record<string, unknown>[];
  if (flags['json']) return print(JSON.stringify(list));
  if (list.length === 0) return print('no approvals');
  table([
    ['ID', 'STATUS', 'ENVIRONMENT', 'REPOSITORY', 'COMMIT', 'EXECUTION'],
    ...list.map((a) => [
      String(a['id']),
      String(a['status']),
      String(a['environment']),
      String(a['repository']),
      String(a['commitSha']).slice(0, 7),
      String(a['executionArn']).split(':').pop() ?? '',
    ]),
  ]);
  return 0;
};

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

const statuses: Command = async (_args, flags) => {
  const query = new URLSearchParams();
  if (typeof flags['repository'] === 'string') query.set('repository', flags['repository']);
  if (typeof flags['sha'] === 'string') query.set('sha', flags['sha']);
  const body = await api(flags, `/api/statuses?${query}`);
  const list = body['statuses'] as Record<string, unknown>[];
  if (flags['json']) return print(JSON.stringify(list));
  if (list.length === 0) return print('no statuses');
  table([
    ['TIME', 'REPOSITORY', 'COMMIT', 'CONTEXT', 'STATE', 'DESCRIPTION'],
    ...list
      .slice()
      .reverse()
      .map((s) => [
        when(s['createdAt']),
        String(s['repository']),
        String(s['sha']).slice(0, 7),
        String(s['context']),
        String(s['state']),
        String(s['description'] ?? ''),
      ]),
  ]);
  return 0;
};

/** The commands. `demo` lives in local/demo and is loaded only when asked for. */
export const COMMANDS: Record<string, Command> = {
  start,
  executions,
  approve: decide('approve'),
  reject: decide('reject'),
  approvals,
  replay,
  redrive,
  statuses,
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
        definition: { type: 'string' },
        status: { type: 'string' },
        repository: { type: 'string' },
        sha: { type: 'string' },
        limit: { type: 'string' },
        as: { type: 'string' },
        reason: { type: 'string' },
        keep: { type: 'boolean' },
        'manual-approval': { type: 'boolean' },
        break: { type: 'string' },
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
    return name ? 0 : 2;
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

if (require.main === module) {
  // A reader that goes away (`stepline executions history … | head`) is not an error of ours.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`stepline: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
