import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CommentCommand } from '../../core/intake/comments';
import type { ApprovalCommandQueue } from '../../core/intake/ports';

/**
 * The webhook's side of comment commands on AWS (docs/adr/0039): one SQS message per command, its body the
 * `CommentCommand` JSON (the verified commenter, the command, where it was written; never the comment's other
 * text), to the queue the approval commands function consumes. The webhook answers once SQS has it.
 */
export class SqsApprovalCommandQueue implements ApprovalCommandQueue {
  public constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  public async submit(command: CommentCommand): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(command),
        MessageAttributes: {
          provider: { DataType: 'String', StringValue: command.provider },
          deliveryId: { DataType: 'String', StringValue: command.deliveryId },
        },
      }),
    );
  }
}
