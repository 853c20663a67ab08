import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionInput } from '../../core/intake/types';
import { parseExecutionInput } from '../../core/status/validate';

/**
 * Reads a pipeline execution's input (the `PipelineRequest` and `Route` the intake started it with) with
 * `DescribeExecution`: for CodeBuild events whose build does not carry the commit in its variables, and for
 * execution events whose input was too large for EventBridge. Needs `states:DescribeExecution`.
 */
export type ExecutionInputReader = (executionArn: string) => Promise<ExecutionInput>;

export function describeExecutionReader(client: SFNClient): ExecutionInputReader {
  return async (executionArn) => {
    const out = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (!out.input) throw new Error(`execution ${executionArn} has no input`);
    return parseExecutionInput(JSON.parse(out.input));
  };
}
