import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsCommand, steplineCommand } from '../bin/hints';
import type { Runtime, RuntimeOptions } from '../runtime';
import { buildahAvailable } from '../services/codebuild';
import { decideApproval } from './approvals';
import { canaryConfig, prepareCanary } from './canary';
import { DemoError } from './errors';
import { gitopsConfig, gitopsOutcome, prepareGitOps } from './gitops';
import { RunProgress, type RuntimeEvent } from './progress';
import { collectSummary, type DemoSummary, printHistory, printSummary, summaryJson } from './report';
import { commitChange, createSampleRepository, readConfig, type SampleRepository } from './repository';
import { type Output, Terminal } from './terminal';
import { deliver, githubPing, githubPush } from './webhook';

/**
 * `stepline demo`: writes the sample service repository into a temporary folder and commits it, starts the local
 * runtime in this process (a free port unless `port` is given, the simulated Kubernetes API server, the console),
 * sends a signed GitHub push for the commit, shows the run live, approves the production gate the way
 * `stepline approve` does, then prints the history and the summary. Answers 0 only when the run SUCCEEDED.
 * Without `keep`, it stops the runtime and removes the folder.
 */

export type BreakStep = 'build' | 'test' | 'metrics';

export interface DemoOptions {
  /** The runtime's port. Default: a free one. */
  readonly port?: number;
  /** Leave the runtime running after the run, until `signal` aborts (Ctrl-C). */
  readonly keep?: boolean;
  /** Print one JSON document (the summary) instead of the live view. */
  readonly json?: boolean;
  /** Wait for a person to approve production (`stepline approve`, or the link) instead of approving it. */
  readonly manualApproval?: boolean;
  /** Commit a change that breaks this step, to see how a failure is reported (`metrics`: the canary's, with `canary`). */
  readonly breakStep?: BreakStep;
  /** Roll staging out as a canary gated by the runtime's metrics (after a first, direct deploy). ADR 0067. */
  readonly canary?: boolean;
  /** Hand staging to GitOps: a configuration repository and an Argo CD Application on the simulated cluster. ADR 0103. */
  readonly gitops?: boolean;
  /** Where the demo writes. Default: standard output and standard error. */
  readonly output?: Output;
  readonly errors?: Output;
  /** Draw the status line and colours. Default: whether `output` is a TTY. */
  readonly tty?: boolean;
  /** Give up on a run that has not ended after this long. Default 5 minutes (none with `manualApproval`). */
  readonly timeoutMs?: number;
  /** Aborting stops the demo (and, with `keep`, the runtime) and cleans up. */
  readonly signal?: AbortSignal;
  /** The environment the runtime reads. Default: a few variables of `process.env` (never tokens or KUBECONFIG). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** How the printed hints call `stepline` and the demo again. Default: as this shell can (local/bin/hints.ts). */
  readonly hints?: DemoHints;
}

export interface DemoHints {
  /** `stepline`, `npx stepline` or `node …/stepline.cjs`. */
  readonly cli: string;
  /** The demo again, ready for more flags: `npm run demo --` under npm, else `<cli> demo`. */
  readonly demo: string;
}

/** The hints for this process: `npm run demo` passes flags after `--`, the `stepline` command takes them as they are. */
export function demoHints(env: Readonly<Record<string, string | undefined>> = process.env): DemoHints {
  const cli = steplineCommand(env);
  return { cli, demo: env['npm_lifecycle_event'] === 'demo' ? 'npm run demo --' : `${cli} demo` };
}

/** The change each `--break` commits: a file, what in it to replace, and with what. */
const BREAKS: Readonly<
  Record<Exclude<BreakStep, 'metrics'>, { file: string; find: string; replace: string; message: string }>
> = {
  build: {
    file: 'src/server.js',
    find: 'server.listen(port, host, () => resolve(server));',
    replace: 'server.listen(port, host, () => resolve(server);',
    message: 'Listen on the configured host',
  },
  test: {
    file: 'src/app.js',
    find: "greeting: env.GREETING || 'Hello',",
    replace: "greeting: env.GREETING || 'Hi',",
    message: 'Change the default greeting',
  },
};

/** The demo's own approver: the first of the environment's approvers, else this name. */
const DEFAULT_APPROVER = 'stepline-demo';

/** Variables the runtime may see: what builds need, and the simulated cluster's pace. No token, no KUBECONFIG. */
const PASSED_VARIABLES = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'STEPLINE_KUBE_TICK_MS',
  'STEPLINE_KUBE_TIME_SCALE',
  'STEPLINE_KUBE_PORT',
] as const;

export function demoEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string | undefined> {
  return Object.fromEntries(
    PASSED_VARIABLES.filter((name) => env[name] !== undefined).map((name) => [name, env[name]]),
  );
}

/** Writes the sample repository into `dir` and commits the `breakStep` change on top when asked. */
export async function prepareRepository(dir: string, breakStep?: BreakStep): Promise<SampleRepository> {
  const repository = await createSampleRepository(dir);
  // `metrics` breaks no file: the canary's error ratio goes up (canary.ts).
  if (!breakStep || breakStep === 'metrics') return repository;
  const change = BREAKS[breakStep];
  const text = readFileSync(join(dir, change.file), 'utf8');
  if (!text.includes(change.find))
    throw new DemoError(`the sample's ${change.file} no longer contains what --break ${breakStep} changes`);
  return commitChange(repository, { [change.file]: text.replace(change.find, change.replace) }, change.message);
}

const NULL_OUTPUT: Output = { write: () => true };

function aborted(signal: AbortSignal | undefined): Promise<'aborted'> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
}

// size-exception(function): the demo's script, its steps in the order a person watches them, over shared terminal
// state; splitting it is left to the demo's owners (issue 13)
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const output = options.output ?? process.stdout;
  const errors = options.errors ?? process.stderr;
  const terminal = new Terminal(
    options.json ? NULL_OUTPUT : output,
    options.tty === undefined ? {} : { tty: options.tty },
  );
  const say = (name: string, value: string): void => terminal.line(`  ${name.padEnd(13)} ${value}`.trimEnd());
  const hints = options.hints ?? demoHints();
  const cli = hints.cli;
  const root = mkdtempSync(join(tmpdir(), 'stepline-demo-'));
  let runtime: Runtime | null = null;
  let progress: RunProgress | null = null;
  let consoleHandler: { close(): void } | null = null;
  const listeners: ((event: RuntimeEvent) => void)[] = [];
  try {
    terminal.line(
      terminal.paint(
        'bold',
        'Stepline demo: a signed push to a sample service, built, tested and deployed on this machine',
      ),
    );
    terminal.line();
    let repository = await prepareRepository(join(root, 'hello-service'), options.breakStep);
    say('repository', `${repository.name}: a git repository in ${repository.dir}`);
    say('', `commit ${repository.head.slice(0, 7)} "${repository.message}" on ${repository.branch}`);
    if (options.breakStep && options.breakStep !== 'metrics')
      say(
        '',
        terminal.paint('warn', `(--break ${options.breakStep}: this commit breaks the ${options.breakStep} step)`),
      );

    const env = options.env ?? demoEnvironment();
    // The runtime decides as one identity (the console's header, `stepline approve`): the gate's approver here, so
    // that the demo's own approval and the `stepline approve … --as <approver>` it prints are both taken.
    const approver = firstApprover(readConfig(repository)) ?? DEFAULT_APPROVER;
    const { startRuntime } = await import('../runtime');
    const web = await import('../console').catch(() => null);
    const runtimeOptions: RuntimeOptions = {
      port: options.port ?? 0,
      host: '127.0.0.1',
      stateDir: join(root, 'state'),
      config: options.canary
        ? canaryConfig(readConfig(repository))
        : options.gitops
          ? gitopsConfig(readConfig(repository))
          : readConfig(repository),
      webhookSecret: randomBytes(24).toString('base64url'),
      kubernetes: 'simulated',
      identity: approver,
      logLevel: 'SILENT',
      replayEveryMs: 0,
      env,
      ...(web
        ? {
            extend: (router, started) => {
              const handler = web.createConsoleRoutes(web.runtimeConsoleSource(started));
              consoleHandler = handler;
              web.mountConsole(router, handler);
            },
          }
        : {}),
    };
    try {
      runtime = await startRuntime(runtimeOptions);
    } catch (error) {
      throw new DemoError(`the local runtime did not start: ${(error as Error).message}`, { cause: error });
    }
    const started = runtime;
    // The deploy functions' Kubernetes client loads in the background while the build runs.
    void started.warm().catch(() => {});
    say('runtime', `${started.url} (state in ${started.stateDir})`);
    say(
      'console',
      `${started.url}/ ${options.keep ? '' : `(live while the demo runs; \`${hints.demo} --keep\` keeps it up after)`}`.trimEnd(),
    );
    say('Kubernetes', `simulated API server at ${started.kubernetes.server}: Deployments roll out, no container runs`);
    say(
      'images',
      buildahAvailable({ PATH: env['PATH'] })
        ? 'buildah builds a real OCI image (FROM scratch, no Docker engine)'
        : terminal.paint(
            'warn',
            'buildah is not installed: the build stands in the SHA-256 of the source for the image digest',
          ),
    );
    terminal.line();

    // GitHub pings a webhook when it is added: the same here, which also loads the webhook function before the push.
    const ping = await deliver(
      started.url,
      githubPing(repository, started.webhookSecret, `${started.url}/webhooks/github`),
    );
    if (ping.status !== 200 || ping.body['status'] !== 'pong') {
      throw new DemoError(`the webhook did not answer GitHub's ping: ${ping.status} ${JSON.stringify(ping.body)}`);
    }
    say(
      'webhook',
      `${started.url}/webhooks/github answers GitHub's signed ping: ${ping.status} ${String(ping.body['status'])}`,
    );
    terminal.line();
    const gitops = options.gitops ? await prepareGitOps(started, repository, say) : null;
    if (options.canary) {
      repository = await prepareCanary(started, repository, { breakMetrics: options.breakStep === 'metrics', say });
      terminal.line();
    }

    // Follow the run from before the webhook is sent: its first events come before the webhook answers.
    const sentAt = Date.now();
    const approvals: Promise<void>[] = [];
    const approve = (request: { id: string; url: string; environment: string }, name: string): void => {
      const by = readApprovers(readConfig(repository), request.environment)[0] ?? DEFAULT_APPROVER;
      const command = `${cli} approve ${name} --as ${by} --url ${started.url}`;
      if (options.manualApproval) {
        if (started.approvals.identity !== by) started.approvals.setIdentity(by);
        terminal.line(`${' '.repeat(22)}decide it: ${command}`);
        terminal.line(
          `${' '.repeat(22)}(or \`${cli} reject\` with the same arguments and --reason TEXT, or open the link)`,
        );
        return;
      }
      terminal.line(
        `${' '.repeat(22)}the demo approves as ${by}, as \`${cli} approve <execution> --as ${by}\` would (--manual-approval: you do)`,
      );
      // The runtime decides as its one identity: the approver of this gate.
      if (started.approvals.identity !== by) started.approvals.setIdentity(by);
      approvals.push(
        decideApproval(started.url, request.id, 'approve', by, 'approved by stepline demo').then((decision) => {
          if (decision.status !== 200) {
            terminal.line(terminal.paint('fail', `  the approval was refused: ${decision.status} ${decision.outcome}`));
          }
        }),
      );
    };
    let executionName = '';
    progress = new RunProgress(
      terminal,
      {
        build: (id) => started.codebuild.get(id),
        reports: (id) => started.codebuild.reports(id),
        logs: (id) => started.stores.builds.logs(id),
        ...(started.cluster
          ? {
              object: (apiVersion, kind, namespace, name) => started.cluster?.object(apiVersion, kind, namespace, name),
            }
          : {}),
      },
      sentAt,
      { onApproval: (request) => approve(request, executionName) },
    );
    const view = progress;
    let executionArn: string | null = null;
    let endedNow: () => void = () => {};
    const ended = new Promise<'ended'>((resolve) => {
      endedNow = () => resolve('ended');
    });
    const onEvent = (event: RuntimeEvent): void => {
      view.handle(event);
      if (
        event.type === 'execution' &&
        (event['execution'] as { executionArn?: string }).executionArn === executionArn
      ) {
        endedNow();
      }
    };
    listeners.push(onEvent);
    started.events.on('event', onEvent);

    const delivery = githubPush(repository, started.webhookSecret);
    terminal.line(
      `${terminal.paint('dim', '    0ms')}  ${'webhook'.padEnd(12)} POST ${started.url}/webhooks/github: push of ${repository.head.slice(0, 7)} to ${repository.branch}, delivery ${delivery.id}, signed (X-Hub-Signature-256)`,
    );
    const answer = await deliver(started.url, delivery);
    const arn = typeof answer.body['executionArn'] === 'string' ? answer.body['executionArn'] : null;
    if (answer.status !== 202 || answer.body['status'] !== 'started' || !arn) {
      throw new DemoError(
        `the webhook did not start a run: it answered ${answer.status} ${JSON.stringify(answer.body)}`,
      );
    }
    const answeredAt = Date.now();
    executionArn = arn;
    executionName = String(answer.body['name'] ?? arn.split(':').pop());
    // What happened before the answer first, then the answer: the lines stay in time order.
    view.follow(arn);
    terminal.line(
      `${terminal.paint('dim', `${answeredAt - sentAt}ms`.padStart(7))}  ${'webhook'.padEnd(12)} ${answer.status} ${answer.body['status']}: execution ${executionName}`,
    );
    const record = started.stores.executions.getExecution(arn);
    if (record && record.status !== 'RUNNING') endedNow();

    const timeoutMs = options.timeoutMs ?? (options.manualApproval ? 0 : 5 * 60_000);
    let timer: NodeJS.Timeout | null = null;
    const timedOut = new Promise<'timeout'>((resolve) => {
      if (timeoutMs > 0) timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([ended, timedOut, aborted(options.signal)]);
    if (timer) clearTimeout(timer);
    await Promise.allSettled(approvals);
    view.close();
    if (outcome === 'aborted') {
      errors.write('stepline demo: stopped before the run ended\n');
      return 130;
    }
    if (outcome === 'timeout') {
      const current = started.stores.executions.getExecution(arn);
      throw new DemoError(
        `the run did not end within ${Math.round(timeoutMs / 1000)}s (it is ${current?.status ?? 'unknown'}); see ${started.url}/executions/${encodeURIComponent(arn)}`,
      );
    }

    const summary: DemoSummary = await collectSummary(started, arn, sentAt);
    if (gitops && !options.json) say('gitops', await gitopsOutcome(gitops));
    if (options.json) {
      output.write(`${JSON.stringify({ ...summaryJson(summary), keep: options.keep === true, url: started.url })}\n`);
    } else {
      printHistory(
        terminal,
        summary,
        options.keep
          ? `${cli} executions history ${summary.execution.name} --url ${started.url}`
          : `\`${cli} executions history <execution>\` while a runtime is up (\`${hints.demo} --keep\` keeps this one up)`,
      );
      printSummary(
        terminal,
        summary,
        options.keep
          ? 'open it: the runtime keeps running (--keep)'
          : `the runtime stops with the demo: \`${hints.demo} --keep\` keeps it up to browse`,
      );
    }
    if (options.keep && !options.signal?.aborted) {
      terminal.line();
      terminal.line(
        terminal.paint('bold', 'The runtime keeps running (--keep); Ctrl-C stops it and removes the demo folder.'),
      );
      say('console', `${started.url}/ (delivery insight: ${started.url}/insight)`);
      say('CLI', `${cli} executions show ${summary.execution.name} --url ${started.url}`);
      say('', `${cli} statuses --url ${started.url}`);
      // Delivery insight (README): the run's deploys, as the four keys per environment; the console's /insight too.
      say('', `${cli} metrics dora --url ${started.url}`);
      say('kubectl', `kubectl --kubeconfig ${started.kubernetes.kubeconfig} get deploy,svc -A`);
      say(
        'AWS CLI',
        `${awsCommand(started.url)} stepfunctions list-executions --state-machine-arn ${started.stateMachineArn}`,
      );
      say('repository', `${repository.dir}`);
      await aborted(options.signal);
    }
    return summary.status === 'SUCCEEDED' ? 0 : 1;
  } catch (error) {
    progress?.close();
    errors.write(`stepline demo: ${(error as Error).message}\n`);
    return 1;
  } finally {
    progress?.close();
    terminal.close();
    for (const listener of listeners) runtime?.events.off('event', listener);
    (consoleHandler as { close(): void } | null)?.close();
    await runtime?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

/** The first approver of the first environment that asks for an approval, in a configuration's first repository. */
function firstApprover(config: string): string | undefined {
  const parsed = JSON.parse(config) as {
    repositories?: { environments?: Record<string, { approval?: { approvers?: string[] } }> }[];
  };
  const environments = Object.values(parsed.repositories?.[0]?.environments ?? {});
  return environments.map((e) => e.approval?.approvers?.[0]).find((a): a is string => typeof a === 'string');
}

/** The approvers of `environment` in a configuration's first repository. */
function readApprovers(config: string, environment: string): string[] {
  const parsed = JSON.parse(config) as {
    repositories?: { environments?: Record<string, { approval?: { approvers?: string[] } }> }[];
  };
  return parsed.repositories?.[0]?.environments?.[environment]?.approval?.approvers ?? [];
}
