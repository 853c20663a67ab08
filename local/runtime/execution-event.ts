import { EXECUTION_DETAIL_TYPE, type ExecutionEvent } from '../../core/status/contracts';
import type { ExecutionRecord } from '../store';

/**
 * The EventBridge event Step Functions sends when an execution's status changes ("Step Functions Execution Status
 * Change", source `aws.states`), as the execution-events function receives it: the local runtime sends it for runs
 * that end failed, timed out or aborted, and the AWS-composition suite for every status.
 */
export function executionStatusEvent(
  execution: Pick<
    ExecutionRecord,
    'arn' | 'stateMachineArn' | 'name' | 'status' | 'startDate' | 'stopDate' | 'input' | 'error' | 'cause'
  >,
  where: { readonly region: string; readonly accountId: string },
): ExecutionEvent {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': EXECUTION_DETAIL_TYPE,
    source: 'aws.states',
    account: where.accountId,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: where.region,
    resources: [execution.arn],
    detail: {
      executionArn: execution.arn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate,
      stopDate: execution.stopDate,
      input: execution.input,
      inputDetails: { included: true },
      output: null,
      error: execution.error,
      cause: execution.cause,
    },
  };
}
