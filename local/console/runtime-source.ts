import { refusalText } from '../../core/approval/approvers';
import { ExecutionNotRedrivableError } from '../engine';
import type { Runtime } from '../runtime';
import { ConsoleActionError } from './errors';
import { deploymentsOf, type ObjectLink, pipelineContextOf } from './model/pipeline';
import { readHistory } from './model/status';
import type {
  ApprovalView,
  BuildLog,
  BuildPhase,
  BuildPhaseStatus,
  BuildSummary,
  CommitStatusView,
  ConsoleChange,
  ConsoleDataSource,
  ExecutionDetail,
  ExecutionPage,
  ExecutionQuery,
  ExecutionStatus,
  ExecutionSummary,
  HistoryPage,
  HistoryQuery,
} from './source';

/**
 * A `ConsoleDataSource` over the local runtime (`startRuntime`): executions and their history from its SQLite
 * store (so the console answers the same after a restart), builds and their logs from its build store, commit
 * statuses from its Git host sink, approvals from its approval desk, actions through its Step Functions service,
 * live changes from its event emitter. Mount it with `mountConsole(router, createConsoleRoutes(source))`.
 */

type Loose = Record<string, unknown>;

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

type RecordOf = NonNullable<ReturnType<Runtime['stores']['executions']['getExecution']>>;

function summaryOf(record: RecordOf): ExecutionSummary {
  return {
    executionArn: record.arn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status as ExecutionStatus,
    startDate: new Date(record.startDate).toISOString(),
    stopDate: iso(record.stopDate),
    redriveCount: record.redriveCount,
    ...pipelineContextOf(record.input),
  };
}

/** `apps/v1` Deployment `web` in `shop` → `/apis/apps/v1/namespaces/shop/deployments/web` (the API server's path). */
export function kubernetesPath(object: {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | null;
}): string {
  const kind = object.kind.toLowerCase();
  const plural = /(s|x|ch|sh)$/.test(kind)
    ? `${kind}es`
    : /[^aeiou]y$/.test(kind)
      ? `${kind.slice(0, -1)}ies`
      : `${kind}s`;
  const group = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion || 'v1'}`;
  const namespace = object.namespace ? `/namespaces/${encodeURIComponent(object.namespace)}` : '';
  return `${group}${namespace}/${plural}/${encodeURIComponent(object.name)}`;
}

function buildOf(doc: Loose): BuildSummary {
  const variables = ((doc['environment'] as Loose | undefined)?.['environmentVariables'] ?? []) as Loose[];
  const variable = (name: string): string | null => str(variables.find((v) => v['name'] === name)?.['value']);
  const phases = ((doc['phases'] ?? []) as Loose[]).map(
    (p): BuildPhase => ({
      name: str(p['phaseType']) ?? 'UNKNOWN',
      status: (str(p['phaseStatus']) ?? (p['endTime'] ? null : 'IN_PROGRESS')) as BuildPhaseStatus,
      startTime: iso(num(p['startTime'])),
      endTime: iso(num(p['endTime'])),
      durationSeconds: num(p['durationInSeconds']),
      messages: ((p['contexts'] ?? []) as Loose[]).map((c) => str(c['message']) ?? '').filter((m) => m !== ''),
    }),
  );
  return {
    id: str(doc['id']) ?? '',
    projectName: str(doc['projectName']) ?? '',
    status: str(doc['buildStatus']) ?? 'IN_PROGRESS',
    step: variable('STEPLINE_STEP'),
    suite: variable('STEPLINE_SUITE'),
    startTime: iso(num(doc['startTime'])),
    endTime: iso(num(doc['endTime'])),
    phases,
  };
}

export interface RuntimeConsoleSourceOptions {
  /** Links to applied Kubernetes objects. Default: the simulated (or configured) API server's own paths. */
  readonly objectLink?: ObjectLink;
}

// size-exception(function): the console's data source over the runtime: one closure over its stores and every method
// of ConsoleDataSource; left to the console's owners (issue 13)
export function runtimeConsoleSource(runtime: Runtime, options: RuntimeConsoleSourceOptions = {}): ConsoleDataSource {
  const { executions, builds, statuses } = runtime.stores;
  const server = runtime.kubernetes.server;
  const objectLink: ObjectLink | undefined =
    options.objectLink ?? (server ? (object) => `${server.replace(/\/+$/, '')}${kubernetesPath(object)}` : undefined);

  const record = (arn: string): RecordOf | undefined => executions.getExecution(arn);

  const approvalView = (a: Awaited<ReturnType<Runtime['approvals']['list']>>[number]): ApprovalView => ({
    id: a.id,
    executionArn: a.executionArn,
    environment: a.environment,
    repository: a.repository,
    commitSha: a.commitSha,
    ref: a.ref,
    status: a.status,
    approvers: a.approvers,
    requestedAt: a.requestedAt,
    expiresAt: a.expiresAt,
    decidedBy: a.decidedBy,
    decidedAt: a.decidedAt,
    reason: a.reason,
    url: a.url,
  });

  return {
    listExecutions(query: ExecutionQuery): ExecutionPage {
      let page: { items: readonly RecordOf[]; next: string | null };
      try {
        page = executions.listExecutions(
          {
            ...(query.status ? { status: query.status } : {}),
            ...(query.repository ? { repository: query.repository } : {}),
          },
          query.limit,
          query.next,
        );
      } catch (error) {
        throw new ConsoleActionError('invalid', 'next is not a token this console gave', { cause: error });
      }
      const repositories = [
        ...new Set(
          executions
            .countsByRepository()
            .map((c) => c.repository)
            .filter((r): r is string => !!r),
        ),
      ].sort();
      return { executions: page.items.map(summaryOf), next: page.next, repositories };
    },

    describeExecution(executionArn: string): ExecutionDetail | undefined {
      const r = record(executionArn);
      if (!r) return undefined;
      return {
        ...summaryOf(r),
        input: r.input,
        output: r.output,
        error: r.error,
        cause: r.cause,
        redriveStatus: runtime.states.redrivable(r).ok ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
      };
    },

    getHistory(executionArn: string, query: HistoryQuery): HistoryPage | undefined {
      const r = record(executionArn);
      if (!r) return undefined;
      const after = query.after ?? 0;
      const all = executions.history(executionArn);
      const start = all.findIndex((e) => e.id > after);
      const page = start < 0 ? [] : all.slice(start, start + query.limit);
      const last = page.at(-1);
      return {
        events: page.map((e) => ({ ...e, timestamp: e.timestamp.toISOString() })),
        status: r.status as ExecutionStatus,
        more: last !== undefined && all.length > 0 && (all.at(-1)?.id ?? 0) > last.id,
      };
    },

    getDefinition(executionArn: string): unknown {
      const r = record(executionArn);
      const machine = r ? executions.getStateMachine(r.stateMachineArn) : undefined;
      return machine ? (JSON.parse(machine.definition) as unknown) : undefined;
    },

    listBuilds(executionArn: string): BuildSummary[] {
      return builds
        .list({ executionArn })
        .map((b) => buildOf(b.document))
        .sort((a, b) => (a.startTime ?? '').localeCompare(b.startTime ?? ''));
    },

    getBuildLog(buildId: string, phase: string | null): BuildLog | undefined {
      const stored = builds.get(buildId);
      if (!stored) return undefined;
      const chunks = builds.logs(buildId, 0, 1_000_000).filter((c) => !phase || c.phase === phase);
      return {
        buildId,
        phase,
        text: chunks.map((c) => c.text).join(''),
        complete: stored.document['buildComplete'] === true,
      };
    },

    listStatuses(executionArn: string): CommitStatusView[] {
      const r = record(executionArn);
      if (!r) return [];
      const context = pipelineContextOf(r.input);
      const provider = context.provider;
      if (
        !context.repository ||
        !context.commit ||
        (provider !== 'github' && provider !== 'gitlab' && provider !== 'bitbucket')
      )
        return [];
      return statuses.ofCommit(provider, context.repository, context.commit).map((s) => ({
        context: s.context,
        state: s.state,
        description: s.description,
        targetUrl: s.targetUrl,
        createdAt: new Date(s.createdAt).toISOString(),
      }));
    },

    async listApprovals(filter: { executionArn?: string; status?: string }): Promise<ApprovalView[]> {
      return (await runtime.approvals.list(filter)).map(approvalView);
    },

    async decideApproval(id, input): Promise<ApprovalView> {
      const result = await runtime.approvals.decide(id, {
        action: input.decision,
        as: input.by,
        ...(input.reason ? { reason: input.reason } : {}),
      });
      if (result.kind === 'unknown') throw new ConsoleActionError('not_found', `no approval ${id}`);
      if (result.kind === 'forbidden') {
        throw new ConsoleActionError(
          'forbidden',
          refusalText(result.refusal, result.record.environment, result.record.approvers),
        );
      }
      if (result.kind === 'retry') throw new ConsoleActionError('unavailable', result.reason);
      if (result.kind !== 'approved' && result.kind !== 'rejected') {
        const message = 'message' in result && typeof result.message === 'string' ? result.message : result.kind;
        throw new ConsoleActionError(result.kind === 'invalid' ? 'invalid' : 'conflict', message);
      }
      const view = await runtime.approvals.get(id);
      if (!view) throw new ConsoleActionError('not_found', `no approval ${id}`);
      return approvalView(view);
    },

    identity: () => runtime.approvals.identity,

    setIdentity(login: string): string {
      try {
        return runtime.approvals.setIdentity(login);
      } catch (error) {
        throw new ConsoleActionError('invalid', (error as Error).message);
      }
    },

    listDeployments(executionArn: string) {
      const r = record(executionArn);
      if (!r) return [];
      const view = readHistory(
        executions.history(executionArn).map((e) => ({ ...e, timestamp: e.timestamp.getTime() })),
        r.status,
      );
      return deploymentsOf(r.input, view, objectLink);
    },

    stopExecution(executionArn: string, details: { error?: string; cause?: string }): void {
      const r = record(executionArn);
      if (!r) throw new ConsoleActionError('not_found', `no execution ${executionArn}`);
      if (r.status !== 'RUNNING') {
        throw new ConsoleActionError(
          'conflict',
          `the execution is ${r.status}: only a RUNNING execution can be stopped`,
        );
      }
      runtime.states.stopExecution({ executionArn, ...details });
    },

    redriveExecution(executionArn: string): void {
      if (!record(executionArn)) throw new ConsoleActionError('not_found', `no execution ${executionArn}`);
      try {
        runtime.states.redriveExecution({ executionArn });
      } catch (error) {
        if (error instanceof ExecutionNotRedrivableError)
          throw new ConsoleActionError('conflict', error.message, { cause: error });
        throw error;
      }
    },

    subscribe(listener: (change: ConsoleChange) => void): () => void {
      const on = (event: Loose): void => {
        switch (event['type']) {
          case 'history': {
            const executionArn = str(event['executionArn']);
            const e = event['event'] as Loose | undefined;
            if (!executionArn || !e) return;
            listener({ kind: 'history', executionArn, eventId: num(e['id']) ?? 0 });
            if (str(e['type'])?.startsWith('Execution'))
              listener({ kind: 'execution', executionArn, status: event['status'] as ExecutionStatus });
            return;
          }
          case 'execution': {
            const e = event['execution'] as Loose | undefined;
            const executionArn = str(e?.['executionArn']);
            if (executionArn) listener({ kind: 'execution', executionArn, status: e?.['status'] as ExecutionStatus });
            return;
          }
          case 'build': {
            const buildId = str(event['buildId']);
            if (buildId) listener({ kind: 'build', executionArn: null, buildId });
            return;
          }
          case 'invoke': {
            const fn = str(event['function']) ?? '';
            if (fn.includes('approval')) listener({ kind: 'approval', executionArn: null, approvalId: '' });
            if (fn.includes('status')) listener({ kind: 'status', executionArn: null });
            return;
          }
          default:
            return;
        }
      };
      runtime.events.on('event', on);
      return () => runtime.events.off('event', on);
    },
  };
}
