import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj, Request } from '@middy/core';
import { ConfigError } from '../../core/errors';

/**
 * A middy middleware that logs and counts a failure of a function whose errors reach a Step Functions workflow,
 * then lets the error through unchanged (the workflow Catches and Retries on its `name`). It answers nothing: the
 * invocation still fails with the same error.
 *
 * - A name the workflow expects (`known`) is a WARN line and one `metric` with the name as its `error` dimension.
 * - Any other error is an ERROR line (the platform-failure alarm counts ERROR lines, docs/adr/0048) and one
 *   `metric` with the dimension `unexpected`.
 * - A `signals` name is not a failure but an answer the workflow waits on (`Stepline.RolloutInProgress`): an INFO
 *   line with its message, nothing counted.
 *
 * Messages of the errors that reach it name objects, fields and permissions, never a secret's value or a token
 * (core/deploy/errors.ts), so they are logged whole. Use it last, after `injectLambdaContext` and `logMetrics`:
 * middy runs `onError` hooks in reverse order, so this one logs with the appended keys still there and adds its
 * metric before `logMetrics` flushes.
 */
export interface ObserveFailuresOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The metric counted once per failure. */
  readonly metric: string;
  /** The error names the workflow Catches or Retries on: outcomes of the step, not faults of the function. */
  readonly known: readonly string[];
  /** Names that mean "not yet" rather than "failed", each with the INFO message it is logged with. @default {} */
  readonly signals?: Readonly<Record<string, string>>;
  /** The message of the log line; an unexpected error's is this followed by " unexpectedly". @default 'step failed' */
  readonly message?: string;
}

const defaults: Required<Pick<ObserveFailuresOptions, 'signals' | 'message'>> = { signals: {}, message: 'step failed' };

export function observeFailures<TEvent = unknown, TResult = unknown>(
  options: ObserveFailuresOptions,
): MiddlewareObj<TEvent, TResult, Error> {
  const { logger, metrics, metric, known, signals, message } = { ...defaults, ...options };
  if (!metric)
    throw new ConfigError('observeFailures: the metric must be named', [{ path: 'metric', message: 'empty' }]);
  const expected = new Set(known);
  const waiting = new Map(Object.entries(signals));

  const observeFailuresOnError = async (request: Request<TEvent, TResult, Error>): Promise<void> => {
    const { name, text } = describe(request.error);
    const signal = waiting.get(name);
    if (signal !== undefined) {
      logger.info(signal, { reason: text });
      return;
    }
    const isKnown = expected.has(name);
    metrics.addDimension('error', isKnown ? name : 'unexpected');
    metrics.addMetric(metric, MetricUnit.Count, 1);
    if (isKnown) logger.warn(message, { errorName: name, errorMessage: text });
    else logger.error(`${message} unexpectedly`, { errorName: name, errorMessage: text });
  };

  return { onError: observeFailuresOnError };
}

/**
 * The name and message of whatever was thrown: an `Error`'s own (an empty name is `Error`: the logger drops empty
 * keys), or `Error` and its text for anything else.
 */
function describe(thrown: unknown): { name: string; text: string } {
  if (thrown instanceof Error) return { name: String(thrown.name) || 'Error', text: String(thrown.message) };
  return { name: 'Error', text: safeString(thrown) };
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
