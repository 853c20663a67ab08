import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApprovalTaskEvent } from '../../../core/approval/contracts';
import type { ExecutionInput, PullRequestInfo } from '../../../core/intake/types';
import {
  type ApprovalView,
  type BuildLog,
  type BuildSummary,
  ConsoleActionError,
  type ConsoleChange,
  type ConsoleDataSource,
  type ConsoleHandler,
  createConsoleRoutes,
  engineConsoleSource,
  eventToJson,
} from '../../../local/console';
import { readHistory } from '../../../local/console/model/status';
import type { Engine, JsonValue, StartedExecution } from '../../../local/engine';
import { environment, pipelineRequest, route } from '../../support/githost/fixtures';
import { PipelineWorld, pipelineDefinition, type Scenario } from '../../support/workflow/pipeline-world';

/**
 * The console over a real local Engine running the real pipeline definition (`PipelineWorld`), served on
 * 127.0.0.1: what the API tests and the browser tests look at. Approvals wait for a decision here (in memory, as
 * the runtime's approval desk would hold them); builds are read back from the CodeBuild tasks' results.
 */

export const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';

export interface ConsoleServer {
  readonly url: string;
  readonly handler: ConsoleHandler;
  close(): Promise<void>;
}

/** Serves `source` on a free port of 127.0.0.1; everything the console does not serve answers 404. */
export async function serveConsole(source: ConsoleDataSource): Promise<ConsoleServer> {
  const handler = createConsoleRoutes(source, { coalesceMs: 30 });
  await handler.ready;
  const server: Server = createServer((req, res) => {
    if (!handler(req, res)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not_found' }));
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    handler,
    close: async () => {
      handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Approval gates held in memory: the pipeline's approval task records its token here and waits. */
export class MemoryApprovals {
  private readonly gates = new Map<string, ApprovalView & { token: string }>();
  private readonly listeners = new Set<(change: ConsoleChange) => void>();
  private seen = 0;

  public constructor(
    private readonly engine: Engine,
    private readonly calls: readonly ApprovalTaskEvent[],
  ) {}

  /** Picks up the approval tasks the world recorded since the last look. */
  private sync(): void {
    for (; this.seen < this.calls.length; this.seen++) {
      const event = this.calls[this.seen] as ApprovalTaskEvent;
      const id = `approval-${this.seen + 1}`;
      this.gates.set(id, {
        id,
        token: event.taskToken,
        executionArn: event.executionArn,
        environment: event.environment,
        repository: event.request.repository.fullName,
        commitSha: event.request.commit.sha,
        ref: event.request.ref.name,
        status: 'waiting',
        approvers: event.route.environments.find((e) => e.name === event.environment)?.approval?.approvers ?? [],
        requestedAt: new Date().toISOString(),
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
        decidedBy: null,
        decidedAt: null,
        reason: null,
        url: null,
      });
      this.emit({ kind: 'approval', executionArn: event.executionArn, approvalId: id });
    }
  }

  private emit(change: ConsoleChange): void {
    for (const l of this.listeners) l(change);
  }

  public list(filter: { executionArn?: string; status?: string }): ApprovalView[] {
    this.sync();
    for (const [id, gate] of this.gates) {
      if (gate.status === 'waiting' && this.engine.describe(gate.executionArn).status !== 'RUNNING') {
        this.gates.set(id, { ...gate, status: 'expired' });
      }
    }
    return [...this.gates.values()]
      .filter(
        (g) =>
          (!filter.executionArn || g.executionArn === filter.executionArn) &&
          (!filter.status || g.status === filter.status),
      )
      .map(({ token: _token, ...view }) => view);
  }

  public decide(
    id: string,
    input: { decision: 'approve' | 'reject'; by: string | null; reason?: string },
  ): ApprovalView {
    this.sync();
    const gate = this.gates.get(id);
    if (!gate) throw new ConsoleActionError('not_found', `no approval ${id}`);
    if (gate.status !== 'waiting') throw new ConsoleActionError('conflict', `the approval is ${gate.status} already`);
    const by = input.by ?? 'console';
    const at = new Date().toISOString();
    if (input.decision === 'approve') {
      this.engine.sendTaskSuccess(
        gate.token,
        JSON.stringify({ approved: true, environment: gate.environment, approvedBy: by, approvedAt: at }),
      );
    } else {
      this.engine.sendTaskFailure(
        gate.token,
        'Stepline.ApprovalRejected',
        JSON.stringify({
          environment: gate.environment,
          rejectedBy: by,
          reason: input.reason ?? 'rejected',
          rejectedAt: at,
        }),
      );
    }
    const decided = {
      ...gate,
      status: input.decision === 'approve' ? 'approved' : 'rejected',
      decidedBy: by,
      decidedAt: at,
    };
    this.gates.set(id, decided);
    this.emit({ kind: 'approval', executionArn: gate.executionArn, approvalId: id });
    const { token: _token, ...view } = decided;
    return view;
  }

  public subscribe(listener: (change: ConsoleChange) => void): () => void {
    this.listeners.add(listener);
    const timer = setInterval(() => this.sync(), 50);
    return () => {
      clearInterval(timer);
      this.listeners.delete(listener);
    };
  }
}

const PHASES = [
  'SUBMITTED',
  'QUEUED',
  'PROVISIONING',
  'DOWNLOAD_SOURCE',
  'INSTALL',
  'PRE_BUILD',
  'BUILD',
  'POST_BUILD',
  'COMPLETED',
];

/** The builds of an execution, read back from its CodeBuild tasks (what the runtime's build store would hold). */
export function buildsFromHistory(engine: Engine, executionArn: string): BuildSummary[] {
  const events = engine.history(executionArn).map(eventToJson);
  const view = readHistory(events, engine.describe(executionArn).status);
  const runs = new Map([...view.states.values()].flatMap((s) => s.runs).map((r) => [r.enteredId, r]));
  const builds: BuildSummary[] = [];
  for (const row of view.rows) {
    if (row.type !== 'TaskSucceeded' && row.type !== 'TaskFailed') continue;
    const event = events[row.id - 1];
    const details = (event?.['taskSucceededEventDetails'] ?? event?.['taskFailedEventDetails']) as
      | { resourceType?: string; output?: string; cause?: string }
      | undefined;
    const run = runs.get(row.run);
    const text = details?.output ?? details?.cause;
    if (details?.resourceType !== 'codebuild' || !run || !text) continue;
    let build: {
      Id?: string;
      BuildStatus?: string;
      Phases?: { PhaseType: string; PhaseStatus?: string; Contexts?: { Message?: string }[] }[];
    } = {};
    try {
      build = (JSON.parse(text) as { Build?: typeof build }).Build ?? {};
    } catch {
      continue;
    }
    const input = run.input ? (JSON.parse(run.input) as { suite?: { name?: string } } | null) : null;
    const suite = input?.suite?.name ?? null;
    const at = new Date(run.enteredAt).toISOString();
    const failedAt = build.Phases?.find((p) => p.PhaseStatus === 'FAILED');
    const last = failedAt ? PHASES.indexOf(failedAt.PhaseType) : PHASES.length - 1;
    builds.push({
      id: build.Id ?? `build-${builds.length + 1}`,
      projectName: suite ? 'stepline-test' : 'stepline-build',
      status: build.BuildStatus ?? 'SUCCEEDED',
      step: run.name,
      suite,
      startTime: at,
      endTime: at,
      phases: PHASES.slice(0, last + 1).map((name, i) => ({
        name,
        status: i === last && failedAt ? 'FAILED' : 'SUCCEEDED',
        startTime: at,
        endTime: at,
        durationSeconds: name === 'BUILD' ? 12 : name === 'INSTALL' ? 3 : 0,
        messages: i === last && failedAt ? (failedAt.Contexts ?? []).map((c) => c.Message ?? '') : [],
      })),
    });
  }
  return builds;
}

function buildLog(engine: Engine, buildId: string, phase: string | null): BuildLog | undefined {
  for (const d of engine.list()) {
    const build = buildsFromHistory(engine, d.executionArn).find((b) => b.id === buildId);
    if (!build) continue;
    const lines = build.phases
      .filter((p) => !phase || p.name === phase)
      .map(
        (p) =>
          `[Container] Entering phase ${p.name}\n${p.name === 'BUILD' ? `[Container] Running command make ${build.suite ?? 'image'}\n` : ''}${p.messages.join('\n')}${p.messages.length ? '\n' : ''}[Container] Phase complete: ${p.name} State: ${p.status}\n`,
      );
    return { buildId, phase, text: lines.join(''), complete: true };
  }
  return undefined;
}

export interface RunOptions {
  readonly branch?: string;
  readonly sha?: string;
  readonly repository?: string;
  readonly approval?: boolean;
  readonly pullRequest?: number;
  /** The test suites the route runs (by name; default unit and e2e). */
  readonly suites?: readonly string[];
}

/** A pipeline execution input for `acme/shop` (or another repository), with staging then production. */
export function pipelineInput(options: RunOptions = {}): ExecutionInput {
  const branch = options.branch ?? 'main';
  const repository = options.repository ?? 'acme/shop';
  const sha = options.sha ?? '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d';
  const pr: PullRequestInfo | null = options.pullRequest
    ? {
        number: options.pullRequest,
        action: 'opened',
        title: 'Faster checkout',
        url: `https://github.com/${repository}/pull/${options.pullRequest}`,
        base: { ref: 'main', sha: null },
        head: { ref: branch, sha, repository },
        fork: false,
      }
    : null;
  const base = pipelineRequest('github');
  return {
    request: {
      ...base,
      repository: { ...base.repository, fullName: repository, htmlUrl: `https://github.com/${repository}` },
      ref: { name: branch, fullName: pr ? `refs/pull/${pr.number}/head` : `refs/heads/${branch}`, kind: 'branch' },
      commit: {
        sha,
        before: null,
        message: 'Speed up the checkout page',
        url: `https://github.com/${repository}/commit/${sha}`,
      },
      pullRequest: pr,
    },
    route: route({
      repository,
      ...(options.suites ? { tests: route().tests.filter((t) => options.suites?.includes(t.name)) } : {}),
      concurrencyKey: `github:${repository}:refs/heads/${branch}`,
      environments: pr
        ? []
        : [
            environment('staging', {
              url: 'https://staging.shop.example.com',
              rollout: { timeoutSeconds: 300, pollSeconds: 1 },
            }),
            environment('production', {
              url: 'https://shop.example.com',
              rollout: { timeoutSeconds: 300, pollSeconds: 1 },
              approval: options.approval ? { approvers: ['alice'], timeoutSeconds: 3600 } : null,
            }),
          ],
    }),
  };
}

/** A world whose runs the console shows: the real pipeline, real engine, the console's engine adapter. */
export class ConsoleWorld {
  public readonly world: PipelineWorld;
  public readonly approvals: MemoryApprovals;
  public readonly source: ConsoleDataSource;

  public constructor(scenario: Scenario = {}) {
    this.world = new PipelineWorld({ approval: 'timeout', checksBeforeDone: 0, ...scenario });
    this.approvals = new MemoryApprovals(this.world.engine, this.world.calls.approvals);
    const engine = this.world.engine;
    const definition = pipelineDefinition();
    this.source = engineConsoleSource(engine, {
      definitions: (arn) => (arn === STATE_MACHINE_ARN ? definition : undefined),
      listBuilds: (arn) => buildsFromHistory(engine, arn),
      getBuildLog: (id, phase) => buildLog(engine, id, phase),
      listApprovals: (filter) => this.approvals.list(filter),
      decideApproval: (id, input) => this.approvals.decide(id, input),
      objectLink: (o, env) =>
        `https://127.0.0.1:6443/apis/apps/v1/namespaces/${o.namespace ?? env}/${o.kind.toLowerCase()}s/${o.name}`,
      subscribe: (listener) => this.approvals.subscribe(listener),
    });
  }

  public get engine(): Engine {
    return this.world.engine;
  }

  /**
   * Starts a pipeline run on the real clock (so that it can be watched); a Wait of the definition then takes its
   * real time (rollout polls of 1 s).
   */
  public start(name: string, options: RunOptions = {}, clock: 'real' | 'virtual' = 'virtual'): StartedExecution {
    return this.world.engine.start(pipelineDefinition() as never, pipelineInput(options) as unknown as JsonValue, {
      name,
      stateMachineArn: STATE_MACHINE_ARN,
      clock,
    });
  }
}
