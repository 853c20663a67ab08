import { CreateQueueCommand, GetQueueAttributesCommand, type QueueAttributeName } from '@aws-sdk/client-sqs';
import { type CreateInput, type StandInKind, tagList } from './kind';

/**
 * `AWS::SQS::Queue` on moto: CreateQueue with each property as the queue attribute of the same name (the redrive
 * policies as JSON text) and the tags. A generated name of a FIFO queue ends `.fifo`, as CloudFormation's does.
 * `Ref` is the queue's URL (the one moto answers, which the SDK can call), `Fn::GetAtt Arn` its ARN.
 */
const ATTRIBUTES = [
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'DelaySeconds',
  'FifoQueue',
  'FifoThroughputLimit',
  'KmsDataKeyReusePeriodSeconds',
  'KmsMasterKeyId',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'RedriveAllowPolicy',
  'RedrivePolicy',
  'SqsManagedSseEnabled',
  'VisibilityTimeout',
] as const;

export const sqsQueue: StandInKind = {
  type: 'AWS::SQS::Queue',
  properties: ['QueueName', 'Tags', ...ATTRIBUTES],
  async create({ logicalId, properties: p, clients, generatedName }: CreateInput) {
    const fifo = p.FifoQueue === true || p.FifoQueue === 'true';
    const queueName =
      p.QueueName === undefined ? generatedName(fifo ? 75 : 80) + (fifo ? '.fifo' : '') : String(p.QueueName);
    const attributes: Partial<Record<QueueAttributeName, string>> = {};
    for (const name of ATTRIBUTES) {
      const value = p[name];
      if (value === undefined) continue;
      attributes[name as QueueAttributeName] = typeof value === 'object' ? JSON.stringify(value) : String(value);
    }
    const tags = tagList(p.Tags, `AWS::SQS::Queue ${logicalId}.Tags`);
    const { QueueUrl } = await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: queueName,
        Attributes: attributes,
        ...(tags.length > 0 ? { tags: Object.fromEntries(tags.map((t) => [t.Key, t.Value])) } : {}),
      }),
    );
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    return {
      ref: QueueUrl!,
      attributes: { Arn: Attributes!.QueueArn!, QueueName: queueName, QueueUrl: QueueUrl! },
    };
  },
};
