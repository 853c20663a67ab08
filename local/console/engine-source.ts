import {
  type Engine,
  type ExecutionDescription,
  ExecutionDoesNotExistError,
  ExecutionNotRedrivableError,
  type HistoryEvent,
} from '../engine';
import { ConsoleActionError } from './errors';
import { deploymentsOf, type ObjectLink, pipelineContextOf } from './model/pipeline';
import { readHistory } from './model/status';
import type {
  ConsoleChange,
  ConsoleDataSource,
  ExecutionDetail,
  ExecutionPage,
  ExecutionQuery,
  ExecutionSummary,
  HistoryEventJson,
  HistoryPage,
  HistoryQuery,
  PipelineContext,
} from './source';

/** The sections an engine alone does not have (builds, statuses, approvals), from elsewhere. */
export type ConsoleExtras = Pick<
  ConsoleDataSource,
  'listBuilds' | 'getBuildLog' | 'listStatuses' | 'listApprovals' | 'decideApproval' | 'listDeployments'
>;

export interface EngineConsoleSourceOptions extends Partial<ConsoleExtras> {
  /**
   * The definition of a state machine, by ARN (the Engine runs compiled definitions and does not keep the
   * document): a function, or a record of ARN → definition (an object or JSON text).
   */
  readonly definitions: ((stateMachineArn: string) => unknown) | Readonly<Record<string, unknown>>;
  /** Links to applied Kubernetes objects (the deployments section). Default: none. */
  readonly objectLink?: ObjectLink;
  /** More changes to pass on (builds, approvals from elsewhere). */
  readonly subscribe?: (listener: (change: ConsoleChange) => void) => () => void;
}

interface Cursor {
  readonly offset: number;
}

function encode(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decode(token: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
    if (Number.isInteger(value.offset) && value.offset >= 0) return value;
  } catch {
    // Falls through to the error.
  }
  throw new ConsoleActionError('invalid', 'next is not a token this console gave');
}

export function eventToJson(event: HistoryEvent): HistoryEventJson {
  return { ...event, timestamp: event.timestamp.toISOString() } as HistoryEventJson;
}

/**
 * A `ConsoleDataSource` over a local `Engine`: executions, history, definitions, stop and redrive straight from the
 * engine; deployments read from the history; builds, statuses and approvals from `options` when given.
 *
 * ```ts
 * const source = engineConsoleSource(engine, { definitions: { [stateMachineArn]: definition } });
 * const console = createConsoleRoutes(source);
 * ```
 */
// size-exception(function): the console's data source over the engine: one closure holding its caches and every method
// of ConsoleDataSource; left to the console's owners (issue 13)
export function engineConsoleSource(engine: Engine, options: EngineConsoleSourceOptions): ConsoleDataSource {
  const contexts = new Map<string, PipelineContext>();
  const contextOf = (d: ExecutionDescription): PipelineContext => {
    let c = contexts.get(d.executionArn);
    if (!c) {
      c = pipelineContextOf(d.input);
      contexts.set(d.executionArn, c);
    }
    return c;
  };
  const summary = (d: ExecutionDescription): ExecutionSummary => ({
    executionArn: d.executionArn,
    stateMachineArn: d.stateMachineArn,
    name: d.name,
    status: d.status,
    startDate: d.startDate.toISOString(),
    stopDate: d.stopDate ? d.stopDate.toISOString() : null,
    redriveCount: d.redriveCount,
    ...contextOf(d),
  });
  const describe = (arn: string): ExecutionDescription | undefined => {
    try {
      return engine.describe(arn);
    } catch (error) {
      if (error instanceof ExecutionDoesNotExistError) return undefined;
      throw error;
    }
  };
  const definitionOf = (stateMachineArn: string): unknown => {
    const found =
      typeof options.definitions === 'function'
        ? options.definitions(stateMachineArn)
        : options.definitions[stateMachineArn];
    return typeof found === 'string' ? (JSON.parse(found) as unknown) : found;
  };

  const source: ConsoleDataSource = {
    listExecutions(query: ExecutionQuery): ExecutionPage {
      const all = engine.list(query.status ? { status: query.status } : {});
      const repositories = [...new Set(all.map((d) => contextOf(d).repository).filter((r): r is string => !!r))].sort();
      const matching = query.repository ? all.filter((d) => contextOf(d).repository === query.repository) : all;
      const offset = query.next ? decode(query.next).offset : 0;
      const page = matching.slice(offset, offset + query.limit);
      const end = offset + page.length;
      return {
        executions: page.map(summary),
        next: end < matching.length ? encode({ offset: end }) : null,
        repositories,
      };
    },

    describeExecution(executionArn: string): ExecutionDetail | undefined {
      const d = describe(executionArn);
      if (!d) return undefined;
      return {
        ...summary(d),
        input: d.input,
        output: d.output ?? null,
        error: d.error ?? null,
        cause: d.cause ?? null,
        redriveStatus: d.redriveStatus,
      };
    },

    getHistory(executionArn: string, query: HistoryQuery): HistoryPage | undefined {
      const d = describe(executionArn);
      if (!d) return undefined;
      const events = engine.history(executionArn);
      const after = query.after ?? 0;
      // Ids are 1, 2, 3, ...: the event with id n is at index n - 1.
      const page = events.slice(after, after + query.limit);
      return { events: page.map(eventToJson), status: d.status, more: after + page.length < events.length };
    },

    getDefinition(executionArn: string): unknown {
      const d = describe(executionArn);
      return d ? definitionOf(d.stateMachineArn) : undefined;
    },

    listDeployments:
      options.listDeployments ??
      ((executionArn: string) => {
        const d = describe(executionArn);
        if (!d) return [];
        const view = readHistory(engine.history(executionArn).map(eventToJson), d.status);
        return deploymentsOf(d.input, view, options.objectLink);
      }),

    stopExecution(executionArn: string, details: { error?: string; cause?: string }): void {
      const d = describe(executionArn);
      if (!d) throw new ConsoleActionError('not_found', `no execution ${executionArn}`);
      if (d.status !== 'RUNNING') {
        throw new ConsoleActionError(
          'conflict',
          `the execution is ${d.status}: only a RUNNING execution can be stopped`,
        );
      }
      engine.stop(executionArn, details);
    },

    redriveExecution(executionArn: string): void {
      try {
        engine.redrive(executionArn);
      } catch (error) {
        if (error instanceof ExecutionDoesNotExistError)
          throw new ConsoleActionError('not_found', `no execution ${executionArn}`, { cause: error });
        if (error instanceof ExecutionNotRedrivableError)
          throw new ConsoleActionError('conflict', error.message, { cause: error });
        throw error;
      }
    },

    subscribe(listener: (change: ConsoleChange) => void): () => void {
      const off = engine.subscribe((executionArn, event) => {
        listener({ kind: 'history', executionArn, eventId: event.id });
        if (event.type.startsWith('Execution')) {
          const d = describe(executionArn);
          listener({ kind: 'execution', executionArn, ...(d ? { status: d.status } : {}) });
        }
      });
      const offExtra = options.subscribe?.(listener);
      return () => {
        off();
        offExtra?.();
      };
    },
  };
  if (options.listBuilds) source.listBuilds = options.listBuilds;
  if (options.getBuildLog) source.getBuildLog = options.getBuildLog;
  if (options.listStatuses) source.listStatuses = options.listStatuses;
  if (options.listApprovals) source.listApprovals = options.listApprovals;
  if (options.decideApproval) source.decideApproval = options.decideApproval;
  return source;
}
