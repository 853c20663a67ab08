import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSfnClient, executionArnOf, StepFunctionsWorkflowStarter } from '../../../../adapters/aws/workflow';
import { SqliteParkingStore } from '../../../../adapters/local/parking';
import type { ParkedDelivery } from '../../../../core/contracts/parking';
import { Intake } from '../../../../core/intake/intake';
import type { StartRequest, StartResult } from '../../../../core/intake/ports';
import { drainParkingStore } from '../../../../core/intake/replay';
import { createReplayHandler } from '../../../../functions/replay/handler';
import { MOTO_CREDENTIALS, MOTO_REGION } from '../../../support/moto/clients';
import { type MotoServer, startMoto } from '../../../support/moto/server';
import { awsError, startedExecution, stubHttp } from '../../aws/stub-http';
import { CONFIG, githubDelivery, githubPush } from '../../intake/support';
import { CONTEXT, captureStdout, jsonLines } from '../webhook/support';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';
/** Step Functions: moto_server's, through the SDK's client as on Lambda (the state machine in its default account). */
let moto: MotoServer;
let sfn: SFNClient;

/** A parked delivery made the way the webhook makes one: a real push, verified, routed and named. */
function parked(deliveryId: string, parkedAt = '2026-11-26T03:00:00.000Z'): ParkedDelivery {
  const intake = new Intake(CONFIG);
  const delivery = intake.admit(githubDelivery('push', githubPush(), { deliveryId }));
  if (!delivery.continue) throw new Error('fixture not admitted');
  const requests = intake.interpret(delivery.value);
  if (!requests.continue) throw new Error('fixture not interpreted');
  const planned = intake.plan(requests.value[0]!);
  if (!planned.continue) throw new Error('fixture not routed');
  return { version: 1, ...planned.value, parkedAt, reason: 'ThrottlingException: Rate exceeded' };
}

function record(messageId: string, body: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1795662000000',
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: '1795662000000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:stepline-parking',
    awsRegion: 'eu-west-1',
  };
}

function replayHandler(client: SFNClient = sfn) {
  return createReplayHandler({ workflow: new StepFunctionsWorkflowStarter(client, STATE_MACHINE_ARN) });
}

beforeAll(async () => {
  moto = await startMoto();
  sfn = createSfnClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { ...MOTO_CREDENTIALS } });
}, 30_000);
afterAll(async () => {
  sfn?.destroy();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  await sfn.send(
    new CreateStateMachineCommand({
      name: 'stepline-pipeline',
      roleArn: 'arn:aws:iam::123456789012:role/stepline-pipeline',
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
    }),
  );
});

describe('the replay function (SQS)', () => {
  it('starts each parked delivery again under its execution name', async () => {
    // Prepare
    const delivery = parked('d-1');
    const event: SQSEvent = { Records: [record('m-1', JSON.stringify(delivery))] };

    // Act
    const { result } = await captureStdout(() => replayHandler()(event, CONTEXT));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const execution = await sfn.send(
      new DescribeExecutionCommand({ executionArn: executionArnOf(STATE_MACHINE_ARN, delivery.name) }),
    );
    expect(JSON.parse(execution.input!)).toEqual(delivery.input);
  });

  it('treats a delivery that had started after all as done, not as a second run', async () => {
    // Prepare: the first StartExecution succeeded after all, and its execution has run to its end.
    const delivery = parked('d-1');
    const event: SQSEvent = { Records: [record('m-1', JSON.stringify(delivery))] };
    await captureStdout(() => replayHandler()(event, CONTEXT));
    await sfn.send(new StopExecutionCommand({ executionArn: executionArnOf(STATE_MACHINE_ARN, delivery.name) }));

    // Act
    const { result, output } = await captureStdout(() => replayHandler()(event, CONTEXT));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(jsonLines(output).find((l) => '_aws' in l)).toMatchObject({ replayDuplicate: 1 });
  });

  it('reports the deliveries that still cannot start as batch item failures, and only those', async () => {
    // Prepare
    const ok = parked('d-ok');
    const stuck = parked('d-stuck');
    // Throttling, which moto does not produce: HTTP stubbed under the SDK's client, its retries with no wait.
    const http = stubHttp((request) =>
      request.body['name'] === ok.name ? startedExecution(request) : awsError(400, 'ThrottlingException', 'slow down'),
    );
    const throttled = createSfnClient({
      region: MOTO_REGION,
      credentials: { ...MOTO_CREDENTIALS },
      requestHandler: http.requestHandler,
      retryStrategy: new ConfiguredRetryStrategy(3, 0),
    });
    const event: SQSEvent = {
      Records: [
        record('m-ok', JSON.stringify(ok)),
        record('m-stuck', JSON.stringify(stuck)),
        record('m-bad', '{"version": 7}'),
      ],
    };

    // Act
    const { result, output } = await captureStdout(() => replayHandler(throttled)(event, CONTEXT));

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-stuck' }, { itemIdentifier: 'm-bad' }] });
    expect(http.calls('StartExecution').map((r) => r.body['name'])).toEqual([
      ok.name,
      stuck.name,
      stuck.name,
      stuck.name,
    ]);
    const lines = jsonLines(output);
    expect(lines.find((l) => l['message'] === 'parked delivery still cannot start: it stays parked')).toMatchObject({
      executionName: stuck.name,
      deliveryId: 'd-stuck',
    });
    expect(
      lines.find((l) => l['message'] === 'parked delivery unreadable: left for the dead-letter queue'),
    ).toMatchObject({
      reason: 'a parked delivery has version 7, expected 1',
    });
  });
});

describe('the replay of the local parking store (SQLite)', () => {
  let store: SqliteParkingStore;

  beforeEach(() => {
    store = new SqliteParkingStore(':memory:');
  });

  afterEach(() => store.close());

  function starter(answer: (request: StartRequest) => StartResult) {
    const calls: string[] = [];
    return {
      calls,
      start: async (request: StartRequest) => {
        calls.push(request.name);
        return answer(request);
      },
    };
  }

  it('keeps one row per execution name, however often a delivery is parked', async () => {
    // Prepare
    const delivery = parked('d-1');

    // Act
    await store.park(delivery);
    await store.park({ ...delivery, parkedAt: '2026-11-26T04:00:00.000Z' });

    // Assess
    expect(await store.list(10)).toHaveLength(1);
  });

  it('starts the oldest deliveries first and removes those that started or had started', async () => {
    // Prepare
    const older = parked('d-older', '2026-11-26T01:00:00.000Z');
    const newer = parked('d-newer', '2026-11-26T02:00:00.000Z');
    await store.park(newer);
    await store.park(older);
    const workflow = starter((r) =>
      r.name === older.name
        ? { outcome: 'started', executionArn: `arn:${r.name}` }
        : { outcome: 'duplicate', executionArn: `arn:${r.name}` },
    );

    // Act
    const summary = await drainParkingStore(store, workflow);

    // Assess
    expect(workflow.calls).toEqual([older.name, newer.name]);
    expect(summary).toMatchObject({ started: 1, duplicate: 1, failed: 0 });
    expect(await store.list(10)).toEqual([]);
  });

  it('keeps a delivery that still cannot start and counts the failed attempt', async () => {
    // Prepare
    const delivery = parked('d-1');
    await store.park(delivery);
    const workflow = {
      start: async (): Promise<StartResult> => {
        throw new Error('Step Functions unreachable');
      },
    };

    // Act
    const summary = await drainParkingStore(store, workflow);

    // Assess
    expect(summary).toMatchObject({ started: 0, failed: 1 });
    expect(await store.list(10)).toEqual([delivery]);
    expect(store.stats()).toEqual({ parked: 1, failedAttempts: 1 });
  });
});

describe('the replay bundle', () => {
  it('holds the SDK client it sends with, and not the pipeline configuration parser (zod)', async () => {
    // Prepare: bundled as SteplineFunction's NodejsFunction bundles it (ESM, module before main, the SDK inside).
    const { build } = await import('esbuild');
    const { join } = await import('node:path');

    // Act
    const result = await build({
      entryPoints: [join(__dirname, '../../../../functions/replay/index.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      mainFields: ['module', 'main'],
      write: false,
      metafile: true,
      outfile: 'index.mjs',
      logLevel: 'silent',
    });

    // Assess
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((file) => file.includes('node_modules/@aws-sdk/client-sfn/'))).toBe(true);
    expect(inputs.filter((file) => file.includes('node_modules/zod/'))).toEqual([]);
  });
});
