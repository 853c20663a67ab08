import { SendMessageCommand, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { PARKED_ATTRIBUTES, type ParkedDelivery } from '../../core/contracts/parking';
import { ParkingError } from '../../core/intake/errors';
import type { ParkingQueue } from '../../core/intake/ports';
import { describeAwsError } from './errors';
import { INTAKE_CLIENT_DEFAULTS } from './workflow';

/**
 * The parking queue on SQS: one message per parked delivery, its body the `ParkedDelivery` JSON, with the
 * provider, delivery id and repository as message attributes so that an operator can find one. The replay
 * function consumes the queue; its redrive policy moves a delivery that keeps failing to a dead-letter queue.
 */

/** The SQS client of the webhook function; `config` overrides the intake's defaults. */
export function createSqsClient(config: SQSClientConfig = {}): SQSClient {
  return new SQSClient({ ...INTAKE_CLIENT_DEFAULTS, ...config });
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
      throw new ParkingError(`could not park ${delivery.name}: ${describeAwsError(error)}`, { cause: error });
    }
  }
}
