import { CreateQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSqsClient, SqsParkingQueue } from '../../../adapters/aws/parking';
import type { ParkedDelivery } from '../../../core/contracts/parking';
import { ParkingError } from '../../../core/intake/errors';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../support/moto/clients';
import { type MotoServer, startMoto } from '../../support/moto/server';

/** The parking queue through the SDK's SQSClient, against moto_server's SQS. */

const DELIVERY = {
  version: 1,
  name: 'Codertocat-Hello-World-6113728-d-1',
  input: {
    request: { provider: 'github', deliveryId: 'd-1', repository: { fullName: 'Codertocat/Hello-World' } },
    route: {},
  },
  parkedAt: '2026-11-26T00:00:00.000Z',
  reason: 'WorkflowUnavailableError: StartExecution of n failed: ThrottlingException: Rate exceeded',
} as unknown as ParkedDelivery;

let moto: MotoServer;
let sqs: SQSClient;

beforeAll(async () => {
  moto = await startMoto();
}, 30_000);

afterAll(async () => {
  sqs?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  sqs?.destroy();
  sqs = createSqsClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { ...MOTO_CREDENTIALS } });
});

describe('the parking queue on SQS (moto)', () => {
  it('parks a delivery as its JSON, with the provider, delivery id and repository as attributes', async () => {
    // Prepare
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'stepline-parking' }));

    // Act
    await new SqsParkingQueue(sqs, QueueUrl!).park(DELIVERY);

    // Assess
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['All'], MaxNumberOfMessages: 10 }),
    );
    expect(Messages).toHaveLength(1);
    expect(JSON.parse(Messages![0]!.Body!)).toEqual(DELIVERY);
    expect(Messages![0]!.MessageAttributes).toEqual({
      provider: { DataType: 'String', StringValue: 'github' },
      deliveryId: { DataType: 'String', StringValue: 'd-1' },
      repository: { DataType: 'String', StringValue: 'Codertocat/Hello-World' },
    });
  });

  it('wraps a failed send in ParkingError naming the error', async () => {
    // Prepare
    const missing = `${moto.endpoint}/123456789012/stepline-missing`;

    // Act
    const error = await new SqsParkingQueue(sqs, missing).park(DELIVERY).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ParkingError);
    expect((error as Error).message).toMatch(
      /^could not park Codertocat-Hello-World-6113728-d-1: \S*QueueDoesNotExist/,
    );
  });
});
