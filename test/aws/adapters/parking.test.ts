import { GetQueueAttributesCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsParkingQueue } from '../../../adapters/aws/parking';
import { PARKED_ATTRIBUTES, type ParkedDelivery } from '../../../core/contracts/parking';
import { ParkingError } from '../../../core/intake/errors';
import { onlyOfType, useMoto } from '../../support/moto/fixture';

/**
 * The parking queue (adapters/aws/parking.ts) against moto's SQS, in the queues the synthesized template declares:
 * WebhookIntake/Parking and its dead-letter queue, joined by the template's RedrivePolicy. SQS moves a message
 * whose receive count exceeds the source queue's `maxReceiveCount` to the dead-letter queue (SQS Developer Guide,
 * "Using dead-letter queues"); moto does it on the receive after the last one allowed.
 */

const moto = useMoto({ select: (id) => id.startsWith('WebhookIntakeParking') });

const parking = () => onlyOfType(moto().standIns, 'AWS::SQS::Queue', 'WebhookIntakeParking9');
const deadLetters = () => onlyOfType(moto().standIns, 'AWS::SQS::Queue', 'WebhookIntakeParkingDeadLetters');

const delivery = (deliveryId: string): ParkedDelivery =>
  ({
    version: 1,
    name: `acme-shop-0123456-${deliveryId}`,
    input: {
      request: { provider: 'github', deliveryId, repository: { fullName: 'acme/shop' } },
      route: { environments: [] },
    },
    parkedAt: '2030-01-01T00:00:00.000Z',
    reason: 'ThrottlingException: Rate exceeded',
  }) as unknown as ParkedDelivery;

/** One receive, the message made visible again at once (visibility timeout 0), as a consumer that fails would. */
async function receiveOnce(sqs: SQSClient, queueUrl: string): Promise<Message | undefined> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 1,
      VisibilityTimeout: 0,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  return out.Messages?.[0];
}

describe('the parking queue on SQS (moto)', () => {
  it('parks a delivery as its JSON, with the provider, delivery id and repository as message attributes', async () => {
    // Prepare
    const { sqs } = moto().clients;
    const queue = new SqsParkingQueue(sqs, parking().ref);

    // Act
    await queue.park(delivery('d1'));

    // Assess
    const message = await receiveOnce(sqs, parking().ref);
    expect(JSON.parse(message?.Body ?? 'null')).toEqual(delivery('d1'));
    expect(message?.MessageAttributes).toEqual({
      [PARKED_ATTRIBUTES.provider]: { DataType: 'String', StringValue: 'github' },
      [PARKED_ATTRIBUTES.deliveryId]: { DataType: 'String', StringValue: 'd1' },
      [PARKED_ATTRIBUTES.repository]: { DataType: 'String', StringValue: 'acme/shop' },
    });
  });

  it('is created with the redrive policy, visibility timeout and retention the template declares', async () => {
    // Act
    const { Attributes } = await moto().clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: parking().ref, AttributeNames: ['All'] }),
    );

    // Assess
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: deadLetters().attributes.Arn,
      maxReceiveCount: 12,
    });
    expect(Attributes).toMatchObject({ VisibilityTimeout: '300', MessageRetentionPeriod: '345600' });
  });

  it('moves a delivery that keeps failing to the dead-letter queue after its last allowed receive', async () => {
    // Prepare
    const { sqs } = moto().clients;
    await new SqsParkingQueue(sqs, parking().ref).park(delivery('d2'));
    const counts: string[] = [];
    for (let i = 0; i < 12; i++) {
      const message = await receiveOnce(sqs, parking().ref);
      counts.push(message?.Attributes?.ApproximateReceiveCount ?? 'none');
    }

    // Act
    const thirteenth = await receiveOnce(sqs, parking().ref);

    // Assess
    expect(counts).toEqual(Array.from({ length: 12 }, (_, i) => String(i + 1)));
    expect(thirteenth).toBeUndefined();
    const dead = await receiveOnce(sqs, deadLetters().ref);
    expect(JSON.parse(dead?.Body ?? 'null')).toEqual(delivery('d2'));
    expect(dead?.MessageAttributes?.[PARKED_ATTRIBUTES.deliveryId]?.StringValue).toBe('d2');
  });

  it('fails with ParkingError naming the delivery and the SQS error when the queue does not exist', async () => {
    // Prepare
    const missing = parking().ref.replace(/[^/]+$/, 'no-such-queue');
    const queue = new SqsParkingQueue(moto().clients.sqs, missing);

    // Act
    const act = queue.park(delivery('d3'));

    // Assess
    await expect(act).rejects.toThrow(ParkingError);
    await expect(act).rejects.toThrow(/could not park acme-shop-0123456-d3: .*QueueDoesNotExist/);
  });
});
