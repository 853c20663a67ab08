import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../core/errors';
import { observeFailures } from '../../../../functions/shared/observe-failures';
import { captured, lambdaContext } from '../deploy/support';

/** A named error, as the deployer throws them. */
function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * A real middy chain as the deploy, rollout and rollback functions build theirs: the logger's context, the metrics,
 * then the middleware; the handler appends a key and then throws `thrown` (or answers when it is undefined).
 */
function handlerThrowing(thrown: unknown) {
  const logger = new Logger({ serviceName: 'stepline-test' });
  const metrics = new Metrics({ namespace: 'Stepline', serviceName: 'stepline-test' });
  return middy<unknown, { ok: boolean }>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(
      observeFailures({
        logger,
        metrics,
        metric: 'deployError',
        known: ['ManifestInvalid', 'Stepline.RolloutInProgress'],
        signals: { 'Stepline.RolloutInProgress': 'rollout in progress' },
        message: 'deploy step failed',
      }),
    )
    .handler(async function testHandler() {
      logger.appendKeys({ executionName: 'shop-main-3f78685' });
      if (thrown !== undefined) throw thrown;
      return { ok: true };
    });
}

/** The lines as written, without the timestamps that change with every run. */
function steady(lines: Record<string, unknown>[]): Record<string, unknown>[] {
  return lines.map(({ timestamp: _timestamp, ...line }) => {
    const aws = line['_aws'] as { Timestamp?: number } | undefined;
    if (!aws) return line;
    const { Timestamp: _time, ...rest } = aws;
    return { ...line, _aws: rest };
  });
}

const CONTEXT_KEYS = {
  service: 'stepline-test',
  cold_start: true,
  function_arn: 'arn:aws:lambda:eu-west-1:123456789012:function:stepline-test',
  function_memory_size: '512',
  function_name: 'stepline-test',
  function_request_id: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  sampling_rate: 0,
};

function metricLine(dimension: string): Record<string, unknown> {
  return {
    _aws: {
      CloudWatchMetrics: [
        {
          Namespace: 'Stepline',
          Dimensions: [['service', 'error']],
          Metrics: [{ Name: 'deployError', Unit: 'Count' }],
        },
      ],
    },
    service: 'stepline-test',
    error: dimension,
    deployError: 1,
  };
}

describe('observeFailures', () => {
  it('logs a named error as a warning with the invocation keys, counts it by name, and rethrows the same error', async () => {
    // Prepare
    const error = named('ManifestInvalid', 'The manifests have 1 problem; nothing was applied');
    const handler = handlerThrowing(error);

    // Act
    const { result, error: thrown, lines } = await captured(() => handler({}, lambdaContext('stepline-test')));

    // Assess
    expect(result).toBeNull();
    expect(thrown).toBe(error);
    expect(steady(lines)).toEqual([
      {
        level: 'WARN',
        message: 'deploy step failed',
        ...CONTEXT_KEYS,
        cold_start: expect.any(Boolean),
        executionName: 'shop-main-3f78685',
        errorName: 'ManifestInvalid',
        errorMessage: 'The manifests have 1 problem; nothing was applied',
      },
      metricLine('ManifestInvalid'),
    ]);
  });

  it('logs any other error at ERROR level, so that the platform alarm counts it, under the dimension unexpected', async () => {
    // Prepare
    const error = new TypeError("Cannot read properties of undefined (reading 'spec')");
    const handler = handlerThrowing(error);

    // Act
    const { error: thrown, lines } = await captured(() => handler({}, lambdaContext('stepline-test')));

    // Assess
    expect(thrown).toBe(error);
    expect(steady(lines)).toEqual([
      {
        level: 'ERROR',
        message: 'deploy step failed unexpectedly',
        ...CONTEXT_KEYS,
        cold_start: expect.any(Boolean),
        executionName: 'shop-main-3f78685',
        errorName: 'TypeError',
        errorMessage: "Cannot read properties of undefined (reading 'spec')",
      },
      metricLine('unexpected'),
    ]);
  });

  it('logs a signal at INFO with its message as the reason and counts nothing', async () => {
    // Prepare
    const error = named('Stepline.RolloutInProgress', 'deployment "api": 1 of 3 updated replicas are available');
    const handler = handlerThrowing(error);

    // Act
    const { error: thrown, lines } = await captured(() => handler({}, lambdaContext('stepline-test')));

    // Assess
    expect(thrown).toBe(error);
    expect(steady(lines)).toEqual([
      {
        level: 'INFO',
        message: 'rollout in progress',
        ...CONTEXT_KEYS,
        cold_start: expect.any(Boolean),
        executionName: 'shop-main-3f78685',
        reason: 'deployment "api": 1 of 3 updated replicas are available',
      },
    ]);
  });

  it('names a thrown value that is not an Error "Error", with its text', async () => {
    // Prepare
    const handler = handlerThrowing('socket hang up');

    // Act
    const { error: thrown, lines } = await captured(() => handler({}, lambdaContext('stepline-test')));

    // Assess
    expect(thrown).toBe('socket hang up');
    expect(steady(lines)).toEqual([
      {
        level: 'ERROR',
        message: 'deploy step failed unexpectedly',
        ...CONTEXT_KEYS,
        cold_start: expect.any(Boolean),
        executionName: 'shop-main-3f78685',
        errorName: 'Error',
        errorMessage: 'socket hang up',
      },
      metricLine('unexpected'),
    ]);
  });

  it('leaves a successful invocation alone', async () => {
    // Prepare
    const handler = handlerThrowing(undefined);

    // Act
    const { result, error, lines } = await captured(() => handler({}, lambdaContext('stepline-test')));

    // Assess
    expect(result).toEqual({ ok: true });
    expect(error).toBeNull();
    expect(lines).toEqual([]);
  });

  it('refuses options without a metric when the function starts, not on its first failure', () => {
    // Prepare
    const logger = new Logger({ serviceName: 'stepline-test' });
    const metrics = new Metrics({ namespace: 'Stepline', serviceName: 'stepline-test' });

    // Act
    const act = () => observeFailures({ logger, metrics, metric: '', known: [] });

    // Assess
    expect(act).toThrow(ConfigError);
  });
});
