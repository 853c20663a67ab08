import {
  type CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { SteplineError } from '../../core/errors';

/**
 * A deployed stack's outputs, by key, with CloudFormation DescribeStacks (ADR 0118). DescribeStacks answers a
 * `ValidationError` "Stack with id NAME does not exist" for a stack that is not there (CloudFormation API Reference,
 * DescribeStacks: "If the stack doesn't exist, a ValidationError is returned"): that is a `StackNotFoundError`;
 * any other error is the SDK's, for the caller to explain.
 */

/** No stack of that name in the account and region. */
export class StackNotFoundError extends SteplineError {
  public constructor(
    public readonly stackName: string,
    options?: ErrorOptions,
  ) {
    super(`stack ${stackName} does not exist`, options);
    this.name = 'StackNotFoundError';
  }
}

export async function stackOutputs(client: CloudFormationClient, stackName: string): Promise<Record<string, string>> {
  let stacks: DescribeStacksCommandOutput['Stacks'];
  try {
    ({ Stacks: stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName })));
  } catch (error) {
    if (error instanceof Error && error.name === 'ValidationError' && /does not exist/.test(error.message)) {
      throw new StackNotFoundError(stackName, { cause: error });
    }
    throw error;
  }
  const stack = stacks?.[0];
  if (!stack) throw new StackNotFoundError(stackName);
  const outputs: Record<string, string> = {};
  for (const output of stack.Outputs ?? []) {
    if (output.OutputKey && output.OutputValue !== undefined) outputs[output.OutputKey] = output.OutputValue;
  }
  return outputs;
}
