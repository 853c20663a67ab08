import { SFNClient } from '@aws-sdk/client-sfn';
import { type AwsApiAnswer, inProcessAwsHandler, type MetricsRegistry } from '../server';
import type { SimulatedKubernetes } from '../services/kubernetes';
import { LambdaService } from '../services/lambda';
import { countInvocation } from './metrics';
import { ACCOUNT, REGION } from './options';
import { LOCAL_RESOURCES } from './pipeline';
import type { Cleanups } from './shutdown';
import type { Emit } from './stores';

/**
 * The in-process Lambda service, the Step Functions client the functions call through, and the queue that invokes
 * the event functions (build events, execution events, the approval keeper) in order, one key at a time.
 */

/** The Lambda service: each invocation is counted, shown on the stream, and a deploy's result saved first. */
export function lambdaService(options: {
  readonly metrics: MetricsRegistry;
  readonly emit: Emit;
  readonly cluster: SimulatedKubernetes | null;
}): LambdaService {
  const { metrics, emit, cluster } = options;
  const quiet = new Set<string>([LOCAL_RESOURCES.functions.approvalHttp, LOCAL_RESOURCES.functions.webhook]);
  const applies = new Set<string>([LOCAL_RESOURCES.functions.deploy, LOCAL_RESOURCES.functions.rollback]);
  return new LambdaService({
    region: REGION,
    accountId: ACCOUNT,
    onInvoke: (info) => {
      // What a deploy or a rollback applied is on disk before its answer is recorded: a kill -9 right after it
      // loses nothing the history says was done (ADR 0089).
      if (applies.has(info.functionName)) cluster?.save();
      countInvocation(metrics, info);
      if (quiet.has(info.functionName)) return;
      emit({
        type: 'invoke',
        function: info.functionName,
        durationMs: info.durationMs,
        errorType: info.errorType,
        result: info.result,
      });
    },
  });
}

/**
 * The functions' Step Functions calls (StartExecution, DescribeExecution, SendTask*, StopExecution) go through the
 * SDK as on AWS, answered in process by the API the HTTP route serves (server/in-process.ts). The webhook and the
 * replay start executions with it too, as they do on AWS. `answer` is null until the service is up.
 */
export function inProcessSfn(internalUrl: string, answer: () => AwsApiAnswer | null, cleanups: Cleanups): SFNClient {
  const sfn = new SFNClient({
    region: REGION,
    endpoint: internalUrl,
    credentials: { accessKeyId: 'stepline-local', secretAccessKey: 'stepline-local' },
    maxAttempts: 3,
    requestHandler: inProcessAwsHandler(answer),
  });
  cleanups.add(() => sfn.destroy());
  return sfn;
}

/** Invokes a function later, after the previous invocation of the same key; failures are the function's to log. */
export type InvokeLater = (key: string, functionName: string, event: unknown) => void;

/** The ordered invoker; on stop it waits up to 10 s for what is queued. */
export function orderedInvoker(lambda: LambdaService, cleanups: Cleanups): InvokeLater {
  const invokeInOrder = new Map<string, Promise<unknown>>();
  cleanups.add(async () => {
    const pending = [...invokeInOrder.values()];
    await Promise.race([Promise.allSettled(pending), new Promise((r) => setTimeout(r, 10_000).unref())]);
  });
  return (key, functionName, event) => {
    const previous = invokeInOrder.get(key) ?? Promise.resolve();
    const next = previous.then(() => lambda.invoke(functionName, event)).catch(() => {});
    invokeInOrder.set(key, next);
    void next.then(() => {
      if (invokeInOrder.get(key) === next) invokeInOrder.delete(key);
    });
  };
}
