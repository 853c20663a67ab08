import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DeployedFunction } from './functions';
import type { IamModel } from './iam';
import type { StackValues } from './template';

/**
 * Lambda's SQS event source mappings, made from the template's `AWS::Lambda::EventSourceMapping`s: Lambda's poller
 * receives from the queue with the function's own role (so its `sqs:ReceiveMessage`, `DeleteMessage`, ... are
 * authorized against that role, as on AWS), invokes the function with a batch in the SQS event's shape, and deletes
 * what the function did not report as failed (`ReportBatchItemFailures`). It polls when a scenario says so
 * (`drain`), not on a timer.
 */

interface Mapping {
  readonly id: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly fn: DeployedFunction;
  readonly batchSize: number;
  readonly partialFailures: boolean;
}

function lambdaAttributes(message: Message): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      {
        stringValue: value.StringValue,
        binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
        stringListValues: value.StringListValues ?? [],
        binaryListValues: [],
        dataType: value.DataType,
      },
    ]),
  );
}

export class EventSources {
  private readonly mappings: Mapping[];
  /** What each drain delivered: the function, messages given, messages it reported failed. */
  public readonly batches: { readonly mapping: string; readonly size: number; readonly failed: number }[] = [];

  public constructor(
    private readonly values: StackValues,
    private readonly iam: IamModel,
    functions: ReadonlyMap<string, DeployedFunction>,
    private readonly endpointUrl: string,
  ) {
    this.mappings = values.resourcesOf('AWS::Lambda::EventSourceMapping').flatMap((id) => {
      const props = values.properties(id);
      const queueArn = values.string(props['EventSourceArn']);
      const queueId = values.resourcesOf('AWS::SQS::Queue').find((q) => values.attribute(q, 'Arn') === queueArn);
      const fnName = values.string(props['FunctionName']);
      const fn = [...functions.values()].find((f) => f.fn.spec.name === fnName || f.fn.spec.arn === fnName);
      if (!queueId || !fn) return [];
      return [
        {
          id,
          queueUrl: values.ref(queueId),
          queueArn,
          fn,
          batchSize: Number(props['BatchSize'] ?? 10),
          partialFailures: ((props['FunctionResponseTypes'] as string[] | undefined) ?? []).includes(
            'ReportBatchItemFailures',
          ),
        },
      ];
    });
  }

  private client(mapping: Mapping): SQSClient {
    const principal = this.iam.principal(mapping.fn.roleId);
    return new SQSClient({
      endpoint: this.endpointUrl,
      region: this.values.region,
      credentials: { accessKeyId: principal.accessKeyId, secretAccessKey: principal.secretAccessKey },
      maxAttempts: 1,
    });
  }

  /** Polls every mapping of the function with this logical id prefix until its queue is empty. */
  public async drain(functionPrefix: string): Promise<void> {
    for (const mapping of this.mappings.filter((m) => m.fn.logicalId.startsWith(functionPrefix))) {
      const sqs = this.client(mapping);
      try {
        for (;;) {
          const received = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: mapping.queueUrl,
              MaxNumberOfMessages: Math.min(10, mapping.batchSize),
              MessageAttributeNames: ['All'],
              MessageSystemAttributeNames: ['All'],
              WaitTimeSeconds: 0,
            }),
          );
          const messages = received.Messages ?? [];
          if (messages.length === 0) break;
          const event = {
            Records: messages.map((m) => ({
              messageId: m.MessageId,
              receiptHandle: m.ReceiptHandle,
              body: m.Body,
              attributes: m.Attributes ?? {},
              messageAttributes: lambdaAttributes(m),
              md5OfBody: m.MD5OfBody,
              eventSource: 'aws:sqs',
              eventSourceARN: mapping.queueArn,
              awsRegion: this.values.region,
            })),
          };
          let failed = new Set<string>(messages.map((m) => m.MessageId!));
          try {
            const answer = (await mapping.fn.fn.invoke(event)) as { batchItemFailures?: { itemIdentifier: string }[] };
            failed = new Set(
              mapping.partialFailures ? (answer?.batchItemFailures ?? []).map((f) => f.itemIdentifier) : [],
            );
          } catch {
            // The whole batch goes back to the queue after its visibility timeout.
          }
          this.batches.push({ mapping: mapping.id, size: messages.length, failed: failed.size });
          const done = messages.filter((m) => !failed.has(m.MessageId!));
          if (done.length > 0) {
            await sqs.send(
              new DeleteMessageBatchCommand({
                QueueUrl: mapping.queueUrl,
                Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
              }),
            );
          }
          if (failed.size > 0) break;
        }
      } finally {
        sqs.destroy();
      }
    }
  }
}
