import type { HistoryEvent } from '../engine';
import type { MachineView, MapRunView, StatesService } from '../services/stepfunctions';
import type { ExecutionRecord } from '../store/executions';

/**
 * The Step Functions operations of the local server (AWS JSON 1.0), each a function from the request's members to
 * the response's, over the local Step Functions service (services/stepfunctions/states.ts). Shapes follow the API reference;
 * timestamps are epoch seconds, as the protocol sends them.
 */

export type Operation = (input: Record<string, unknown>) => unknown | Promise<unknown>;

export function seconds(ms: number | Date | null | undefined): number | undefined {
  if (ms === null || ms === undefined) return undefined;
  return (typeof ms === 'number' ? ms : ms.getTime()) / 1000;
}

/** Drops the members whose value is undefined (the protocol leaves absent members out). */
export function clean<T extends Record<string, unknown>>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
  return value;
}

function describeExecution(record: ExecutionRecord, redrive: { ok: boolean; reason: string }): Record<string, unknown> {
  return clean({
    executionArn: record.arn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: seconds(record.startDate),
    stopDate: seconds(record.stopDate),
    input: record.input,
    inputDetails: { included: true },
    output: record.status === 'SUCCEEDED' ? (record.output ?? 'null') : undefined,
    outputDetails: record.status === 'SUCCEEDED' ? { included: true } : undefined,
    error: record.error ?? undefined,
    cause: record.cause ?? undefined,
    redriveCount: record.redriveCount,
    redriveDate: seconds(record.redriveDate),
    redriveStatus: redrive.ok ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
    redriveStatusReason: redrive.ok ? undefined : redrive.reason,
  });
}

function listItem(record: ExecutionRecord): Record<string, unknown> {
  return clean({
    executionArn: record.arn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: seconds(record.startDate),
    stopDate: seconds(record.stopDate),
    redriveCount: record.redriveCount,
    redriveDate: seconds(record.redriveDate),
  });
}

function historyEvent(event: HistoryEvent): Record<string, unknown> {
  return { ...event, timestamp: seconds(event.timestamp) };
}

function describeMachine(m: MachineView): Record<string, unknown> {
  return clean({
    stateMachineArn: m.arn,
    name: m.name,
    status: 'ACTIVE',
    definition: m.definition,
    roleArn: m.roleArn,
    type: m.type,
    creationDate: seconds(m.createdAt),
    loggingConfiguration: m.logging,
    tracingConfiguration: m.tracing,
    encryptionConfiguration: m.encryption ?? undefined,
    revisionId: m.revisionId ?? undefined,
    description: m.description ?? undefined,
  });
}

function describeMapRun(run: MapRunView): Record<string, unknown> {
  return clean({
    mapRunArn: run.mapRunArn,
    executionArn: run.executionArn,
    status: run.status,
    startDate: seconds(run.startDate),
    stopDate: seconds(run.stopDate),
    maxConcurrency: run.maxConcurrency,
    toleratedFailurePercentage: run.toleratedFailurePercentage,
    toleratedFailureCount: run.toleratedFailureCount,
    itemCounts: run.itemCounts,
    executionCounts: run.executionCounts,
    redriveCount: run.redriveCount,
  });
}

/** The state machine operations: create, describe, list, update, delete, versions, tags, validation. */
function machineOperations(states: StatesService): Record<string, Operation> {
  const machines = states.machines;
  return {
    CreateStateMachine: (input) => {
      const out = states.createStateMachine(input);
      return clean({
        stateMachineArn: out.stateMachineArn,
        creationDate: seconds(out.creationDate),
        stateMachineVersionArn: out.stateMachineVersionArn,
      });
    },
    DescribeStateMachine: (input) => describeMachine(states.describeStateMachine(input['stateMachineArn'])),
    DescribeStateMachineForExecution: (input) => {
      const e = states.execution(input['executionArn']);
      const m = states.describeStateMachine(e.stateMachineArn);
      return clean({
        stateMachineArn: m.arn,
        name: m.name,
        definition: m.definition,
        roleArn: m.roleArn,
        updateDate: seconds(m.updatedAt),
        loggingConfiguration: m.logging,
        tracingConfiguration: m.tracing,
        encryptionConfiguration: m.encryption ?? undefined,
        revisionId: m.revisionId ?? undefined,
      });
    },
    ListStateMachines: (input) => {
      const page = states.listStateMachines(input['maxResults'], input['nextToken']);
      return clean({
        stateMachines: page.items.map((m) => ({
          stateMachineArn: m.arn,
          name: m.name,
          type: m.type,
          creationDate: seconds(m.createdAt),
        })),
        nextToken: page.next ?? undefined,
      });
    },
    UpdateStateMachine: (input) => {
      const out = machines.update(input);
      return clean({
        updateDate: seconds(out.updateDate),
        revisionId: out.revisionId,
        stateMachineVersionArn: out.stateMachineVersionArn,
      });
    },
    DeleteStateMachine: (input) => {
      machines.delete(input);
      return {};
    },
    PublishStateMachineVersion: (input) => {
      const v = machines.publish(input);
      return { creationDate: seconds(v.createdAt), stateMachineVersionArn: v.arn };
    },
    ListStateMachineVersions: (input) => {
      const page = machines.versions(input);
      return clean({
        stateMachineVersions: page.items.map((v) => ({
          stateMachineVersionArn: v.arn,
          creationDate: seconds(v.createdAt),
        })),
        nextToken: page.next ?? undefined,
      });
    },
    DeleteStateMachineVersion: (input) => {
      machines.deleteVersion(input);
      return {};
    },
    TagResource: (input) => {
      machines.tag(input);
      return {};
    },
    UntagResource: (input) => {
      machines.untag(input);
      return {};
    },
    ListTagsForResource: (input) => ({ tags: machines.tags(input['resourceArn']) }),
    ValidateStateMachineDefinition: (input) => machines.validate(input),
  };
}

/** The execution operations: start (asynchronous and synchronous), describe, list, history, stop, redrive, tokens. */
function executionOperations(states: StatesService): Record<string, Operation> {
  return {
    StartExecution: (input) => {
      const out = states.startExecution(input);
      return { executionArn: out.executionArn, startDate: seconds(out.startDate) };
    },
    StartSyncExecution: async (input) => {
      const run = await states.startSyncExecution(input);
      const r = run.result;
      const stop = r.stopDate ?? new Date();
      const status = r.status === 'SUCCEEDED' || r.status === 'TIMED_OUT' ? r.status : 'FAILED';
      return clean({
        executionArn: run.executionArn,
        stateMachineArn: run.stateMachineArn,
        name: run.name,
        startDate: seconds(r.startDate),
        stopDate: seconds(stop),
        status,
        error: r.error,
        cause: r.cause,
        input: run.input,
        inputDetails: { included: true },
        output: status === 'SUCCEEDED' ? JSON.stringify(r.output ?? null) : undefined,
        outputDetails: status === 'SUCCEEDED' ? { included: true } : undefined,
        billingDetails: {
          billedMemoryUsedInMB: 64,
          billedDurationInMilliseconds: Math.max(100, Math.ceil((stop.getTime() - r.startDate.getTime()) / 100) * 100),
        },
      });
    },
    DescribeExecution: (input) => {
      const record = states.execution(input['executionArn']);
      return describeExecution(record, states.redrivable(record));
    },
    ListExecutions: (input) => {
      const page = states.listExecutions(input);
      return clean({ executions: page.items.map(listItem), nextToken: page.next ?? undefined });
    },
    GetExecutionHistory: (input) => {
      const page = states.history(input);
      return clean({ events: page.events.map(historyEvent), nextToken: page.next ?? undefined });
    },
    StopExecution: (input) => ({ stopDate: seconds(states.stopExecution(input).stopDate) }),
    RedriveExecution: (input) => ({ redriveDate: seconds(states.redriveExecution(input).redriveDate) }),
    SendTaskSuccess: (input) => {
      states.sendTaskSuccess(input);
      return {};
    },
    SendTaskFailure: (input) => {
      states.sendTaskFailure(input);
      return {};
    },
    SendTaskHeartbeat: (input) => {
      states.sendTaskHeartbeat(input);
      return {};
    },
    TestState: (input) => states.testState(input),
    ListMapRuns: (input) => {
      const page = states.listMapRuns(input);
      return clean({
        mapRuns: page.items.map((run) =>
          clean({
            executionArn: run.executionArn,
            mapRunArn: run.mapRunArn,
            stateMachineArn: run.stateMachineArn,
            startDate: seconds(run.startDate),
            stopDate: seconds(run.stopDate),
          }),
        ),
        nextToken: page.next ?? undefined,
      });
    },
    DescribeMapRun: (input) => describeMapRun(states.describeMapRun(input)),
  };
}

export function stepFunctionsOperations(states: StatesService): Record<string, Operation> {
  return { ...machineOperations(states), ...executionOperations(states) };
}
