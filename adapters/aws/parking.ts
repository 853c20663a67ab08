import { SendMessageCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { PARKED_ATTRIBUTES, type ParkedDelivery } from '../../core/contracts/parking';
import { ParkingError } from '../../core/intake/errors';
import type { ParkingQueue } from '../../core/intake/ports';

/**
 * The parking queue on SQS: one message per parked delivery, its body the `ParkedDelivery` JSON, with the
 * provider, delivery id and repository as message attributes so that an operator can find one. The replay
 * function consumes the queue; its redrive policy moves a delivery that keeps failing to a dead-letter queue.
 */

export function createSqsClient(options: { region?: string | null } = {}): SQSClient {
  const config: SQSClientConfig = { maxAttempts: 3, requestHandler: { requestTimeout: 2000, connectionTimeout: 1000 } };
  if (options.region) config.region = options.region;
  return new SQSClient(config);
}

export class SqsParkingQueue implements ParkingQueue {
  public constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  public async park(delivery: ParkedDelivery): Promise<void> {
    const { request } = delivery.input;
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: JSON.stringify(delivery),
          MessageAttributes: {
            [PARKED_ATTRIBUTES.provider]: { DataType: 'String', StringValue: request.provider },
            [PARKED_ATTRIBUTES.deliveryId]: { DataType: 'String', StringValue: request.deliveryId },
            [PARKED_ATTRIBUTES.repository]: { DataType: 'String', StringValue: request.repository.fullName },
          },
        }),
      );
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new ParkingError(`could not park ${delivery.name}: ${reason}`, { cause: error });
    }
  }
}
