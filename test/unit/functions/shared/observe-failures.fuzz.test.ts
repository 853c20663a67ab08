import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { observeFailures } from '../../../../functions/shared/observe-failures';
import { lambdaContext } from '../deploy/support';

/**
 * Whatever the handler throws (an Error of any name and message, or any value at all: null, a number, an object
 * without a prototype, one whose toString is not a function), the middleware rethrows that very value, never an
 * error of its own, and writes exactly one line about it: INFO for a signal, WARN and a count by name for a known
 * name, ERROR and a count under `unexpected` for anything else.
 */

const KNOWN = ['ManifestInvalid', 'KubernetesForbidden', 'Stepline.RolloutInProgress'];
const SIGNALS = { 'Stepline.RolloutInProgress': 'rollout in progress' };

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

const thrownValues = fc.oneof(
  fc.tuple(fc.constantFrom(...KNOWN), fc.string()).map(([name, message]) => namedError(name, message)),
  fc.tuple(fc.string(), fc.string()).map(([name, message]) => namedError(name, message)),
  // Names that are keys of every object: a lookup in a plain object would take them for a known name or a signal.
  fc
    .tuple(fc.constantFrom('toString', 'constructor', '__proto__', 'hasOwnProperty', ''), fc.string())
    .map(([name, message]) => namedError(name, message)),
  fc.anything({ withNullPrototype: true, withObjectString: true, withBigInt: true, withMap: true, withSet: true }),
);

const logger = new Logger({ serviceName: 'stepline-fuzz' });
const metrics = new Metrics({ namespace: 'Stepline', serviceName: 'stepline-fuzz' });
let toThrow: unknown;
const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(observeFailures({ logger, metrics, metric: 'deployError', known: KNOWN, signals: SIGNALS }))
  .handler(async function fuzzHandler() {
    throw toThrow;
  });

/** One invocation: what it rejected with, and the JSON lines written meanwhile. */
async function invoke(
  thrown: unknown,
): Promise<{ rejected: boolean; reason: unknown; lines: Record<string, unknown>[] }> {
  toThrow = thrown;
  const text: string[] = [];
  const write = (chunk: string | Uint8Array) => text.push(String(chunk)) > 0;
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(write);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(write);
  let outcome: { rejected: boolean; reason: unknown };
  try {
    await handler({}, lambdaContext('stepline-fuzz'));
    outcome = { rejected: false, reason: undefined };
  } catch (reason) {
    outcome = { rejected: true, reason };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const lines = text
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { ...outcome, lines };
}

describe('observeFailures, fuzzed', () => {
  it('rethrows whatever was thrown, unchanged, and writes one line and at most one count about it', async () => {
    await fc.assert(
      fc.asyncProperty(thrownValues, async (thrown) => {
        // Act
        const { rejected, reason, lines } = await invoke(thrown);

        // Assess
        expect(rejected).toBe(true);
        expect(Object.is(reason, thrown)).toBe(true);
        const name = thrown instanceof Error && thrown.name !== '' ? thrown.name : 'Error';
        const logged = lines.filter((line) => 'level' in line);
        const counted = lines.filter((line) => '_aws' in line);
        expect(logged).toHaveLength(1);
        if (Object.hasOwn(SIGNALS, name)) {
          expect(logged[0]).toMatchObject({ level: 'INFO', message: 'rollout in progress' });
          expect(counted).toEqual([]);
        } else if (KNOWN.includes(name)) {
          expect(logged[0]).toMatchObject({ level: 'WARN', message: 'step failed', errorName: name });
          expect(counted).toMatchObject([{ error: name, deployError: 1 }]);
        } else {
          expect(logged[0]).toMatchObject({ level: 'ERROR', message: 'step failed unexpectedly', errorName: name });
          expect(counted).toMatchObject([{ error: 'unexpected', deployError: 1 }]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
