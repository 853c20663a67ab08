import { APPROVAL_KEEPER, heartbeatSecondsFor } from '../../core/approval/contracts';
import type { Engine } from '../engine';
import { eventJson, executionSummary } from '../server/api';
import { type CodeBuildService, codeBuildTaskHandler } from '../services/codebuild';
import { type LambdaService, lambdaTaskHandler } from '../services/lambda';
import { StatesService } from '../services/stepfunctions';
import type { ExecutionStore } from '../store';
import { inExecutionTime } from './execution-clock';
import { executionStatusEvent } from './execution-event';
import type { ExecutionMetrics } from './metrics';
import type { LocalMetricsSource } from './metrics-source';
import { ACCOUNT, REGION } from './options';
import { defaultDefinitionFile, LOCAL_RESOURCES, loadDefinition, localSubstitutions } from './pipeline';
import type { InvokeLater } from './services';
import type { Cleanups } from './shutdown';
import type { Emit } from './stores';

/**
 * The Step Functions side of the runtime: the service over the engine and the execution store (every history event
 * counted and streamed; a failed, timed-out or aborted execution sent to the execution-events function), the task
 * resources the workflow calls (Lambda, CodeBuild, CloudWatch's GetMetricData), and the pipeline state machine made
 * from the workflow definition with the local substitutions.
 */

export function statesService(options: {
  readonly engine: Engine;
  readonly executions: ExecutionStore;
  readonly counted: ExecutionMetrics;
  readonly emit: Emit;
  readonly invokeLater: InvokeLater;
  readonly cleanups: Cleanups;
}): StatesService {
  const { counted, emit, invokeLater } = options;
  const states = new StatesService({
    engine: options.engine,
    store: options.executions,
    region: REGION,
    accountId: ACCOUNT,
    onEvent: (execution, event) => {
      counted.onEvent(execution, event);
      emit({ type: 'history', executionArn: execution.arn, status: execution.status, event: eventJson(event) });
    },
    onEnd: (execution) => {
      counted.onEnd(execution);
      emit({ type: 'execution', execution: executionSummary(execution) });
      if (execution.status === 'FAILED' || execution.status === 'TIMED_OUT' || execution.status === 'ABORTED') {
        const event = executionStatusEvent(execution, { region: REGION, accountId: ACCOUNT });
        invokeLater(`execution:${execution.arn}`, LOCAL_RESOURCES.functions.executionEvents, event);
      }
    },
  });
  options.cleanups.add(() => states.freeze());
  return states;
}

/** The resources the workflow's Task states name, answered in process. */
export function registerTaskHandlers(
  engine: Engine,
  services: { readonly lambda: LambdaService; readonly codebuild: CodeBuildService },
  metricsSource: LocalMetricsSource,
): void {
  // Each function runs in the time of the execution that invokes it: a deadline it computes is on the clock of the
  // workflow's Waits (execution-clock.ts, ADR 0114).
  const lambda = inExecutionTime(lambdaTaskHandler(services.lambda));
  const codebuild = codeBuildTaskHandler(services.codebuild);
  engine.registerHandler('arn:aws:states:::lambda:invoke', lambda);
  engine.registerHandler('arn:aws:states:::lambda:invoke.waitForTaskToken', lambda);
  engine.registerHandler('arn:aws:lambda:*:*:function:*', lambda);
  engine.registerHandler('arn:aws:states:::codebuild:startBuild', codebuild);
  engine.registerHandler('arn:aws:states:::codebuild:startBuild.sync', codebuild);
  // A canary step's CloudWatch metrics, answered by the local metrics source (ADR 0068).
  engine.registerHandler('arn:aws:states:::aws-sdk:cloudwatch:getMetricData', async (request) =>
    metricsSource.getMetricData(request.input as { MetricDataQueries?: Record<string, unknown>[] }),
  );
}

/**
 * The approval keeper's period (`approvalKeeperEveryMs`, default `APPROVAL_KEEPER.localIntervalSeconds`; 0 turns it
 * off) and the whole seconds the gates' heartbeat allowance is reckoned from (ADR 0036).
 */
export function keeperPeriod(everyMs: number | undefined): { readonly everyMs: number; readonly seconds: number } {
  const every = everyMs ?? APPROVAL_KEEPER.localIntervalSeconds * 1000;
  const seconds = every > 0 ? Math.max(1, Math.round(every / 1000)) : APPROVAL_KEEPER.localIntervalSeconds;
  return { everyMs: every, seconds };
}

/**
 * Creates (or replaces) the pipeline state machine from the workflow definition file, with the approval gates'
 * heartbeat fitted to the keeper's period. Without a definition file, deliveries are parked until there is one.
 */
export function createPipeline(options: {
  readonly states: StatesService;
  readonly stateMachineName: string;
  readonly definitionFile: string | undefined;
  readonly keeperSeconds: number;
  readonly log: (line: string) => void;
}): { readonly stateMachineArn: string; readonly definition: string | undefined } {
  const { states, stateMachineName } = options;
  const stateMachineArn = states.stateMachineArnOf(stateMachineName);
  const definitionFile = options.definitionFile ?? defaultDefinitionFile();
  const definition = loadDefinition(
    definitionFile,
    localSubstitutions({
      region: REGION,
      accountId: ACCOUNT,
      stateMachineName,
      approvalHeartbeatSeconds: heartbeatSecondsFor(options.keeperSeconds),
    }),
  );
  if (definition) {
    states.createStateMachine({
      name: stateMachineName,
      definition,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/${stateMachineName}-role`,
      replace: true,
    });
  } else {
    options.log(`no workflow definition at ${definitionFile}: deliveries are parked until one is there`);
  }
  return { stateMachineArn, definition };
}
