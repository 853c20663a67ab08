import { describe, expect, it } from 'vitest';
import type { Analysis, AnalysisMetric } from '../../../core/config/strategy';
import { evaluate } from '../../../core/deploy/analysis/conditions';
import type { AnalysisEvent, Measured, MetricProvider } from '../../../core/deploy/analysis/contracts';
import { prometheusMeasurement } from '../../../core/deploy/analysis/prometheus';
import { analyze } from '../../../core/deploy/analysis/service';
import { environment } from '../../support/githost/fixtures';

/** The analysis (ADR 0068): conditions as Argo Rollouts judges them, in JSONata; limits; errors are never a pass. */

const PROMETHEUS = { prometheus: { address: 'http://prometheus:9090', query: 'q', timeoutSeconds: 10 } };
const metric = (conditions: Partial<AnalysisMetric>): AnalysisMetric => ({
  name: 'errors',
  provider: PROMETHEUS,
  ...conditions,
});

describe('a condition', () => {
  it.each([
    ['only a success condition that holds', { successCondition: 'result[0] < 0.05' }, [0.01], 'successful'],
    ['only a success condition that does not hold', { successCondition: 'result[0] < 0.05' }, [0.2], 'failed'],
    ['only a failure condition that holds', { failureCondition: 'result[0] > 0.1' }, [0.2], 'failed'],
    ['only a failure condition that does not hold', { failureCondition: 'result[0] > 0.1' }, [0.01], 'successful'],
    [
      'both, neither holding',
      { successCondition: 'result[0] < 0.05', failureCondition: 'result[0] > 0.1' },
      [0.07],
      'inconclusive',
    ],
    ['a JSONata function over the values', { successCondition: '$max(result) < 5' }, [1, 4], 'successful'],
    ['no value to compare', { successCondition: 'result[0] < 0.05' }, [], 'error'],
    ['a result that is not true or false', { successCondition: 'result[0]' }, [1], 'error'],
  ])('%s', async (_what, conditions, result, phase) => {
    expect((await evaluate(metric(conditions), result)).phase).toBe(phase);
  });
});

describe('a Prometheus answer', () => {
  it('gives a vector as the list of its values', () => {
    const body = JSON.stringify({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: {}, value: [1700000000, '0.25'] }] },
    });
    expect(prometheusMeasurement(200, body)).toEqual({ kind: 'value', result: [0.25] });
  });

  it.each([
    ['an error status', 400, JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' })],
    ['a body that is not JSON', 502, '<html>Bad Gateway</html>'],
    ['a range query', 200, JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } })],
  ])('is an error run for %s', (_what, status, body) => {
    expect(prometheusMeasurement(status, body).kind).toBe('error');
  });
});

const ANALYSIS: Analysis = {
  interval: 60,
  count: 3,
  failureLimit: 0,
  inconclusiveLimit: 0,
  consecutiveErrorLimit: 1,
  decision: { approvers: [], timeoutMinutes: 60 },
  metrics: [metric({ successCondition: 'result[0] < 0.05' })],
};

function event(analysis: Analysis = ANALYSIS): AnalysisEvent {
  return {
    executionName: 'run-1',
    environment: environment('staging'),
    step: {
      strategy: 'canary',
      index: 0,
      total: 2,
      label: 'canary 10%',
      weight: 10,
      replicas: { canary: 1, stable: 9 },
      pauseSeconds: 0,
      analysis,
      waits: { first: 60, next: 60 },
      cloudwatch: null,
      workloads: { canary: 'web-canary', stable: 'web' },
      router: 'replicas',
    },
    tally: null,
    cloudwatch: null,
  };
}

function providers(...answers: Measured[]) {
  const prometheus: MetricProvider = {
    measure: async () => answers.shift() ?? { kind: 'error', message: 'none left' },
  };
  return { prometheus, cloudwatch: prometheus, job: prometheus };
}

async function run(answers: Measured[], analysis?: Analysis) {
  const deps = providers(...answers);
  let current = event(analysis);
  const results = [];
  for (let i = 0; i < 10; i += 1) {
    const result = await analyze(current, deps);
    results.push(result);
    if (result.verdict !== 'continue') break;
    current = { ...current, tally: result.tally };
  }
  return results;
}

const value = (v: number): Measured => ({ kind: 'value', result: [v] });

describe('an analysis', () => {
  it('passes after count successful measurements, describing each for the status', async () => {
    // Act
    const results = await run([value(0.01), value(0.02), value(0.01)]);

    // Assess
    expect(results.map((r) => [r.verdict, r.description])).toEqual([
      ['continue', 'canary 10% · 1/3 checks passed'],
      ['continue', 'canary 10% · 2/3 checks passed'],
      ['passed', 'canary 10% · 3/3 checks passed'],
    ]);
  });

  it('fails at the first failure beyond failureLimit, naming the metric and its value', async () => {
    const results = await run([value(0.01), value(0.3)]);
    expect(results.at(-1)).toMatchObject({
      verdict: 'failed',
      description: 'canary 10% · 1/3 checks passed · analysis failed',
      reason: expect.stringContaining(
        'metric errors failed: 1 failed, 0 inconclusive, 0 errors of 2 (last value [0.3])',
      ),
    });
  });

  it('errs when the provider is down more often in a row than consecutiveErrorLimit: an error is never a pass', async () => {
    const down: Measured = { kind: 'error', message: 'connect ECONNREFUSED 10.0.0.1:9090' };
    const results = await run([down, down]);
    expect(results.map((r) => r.verdict)).toEqual(['continue', 'error']);
    expect(results.at(-1)?.reason).toContain('ECONNREFUSED');
  });

  it('never passes on errors: an error run does not count toward count, as in Argo Rollouts', async () => {
    // Prepare: a limit of 3 errors in a row and a count of 3, then the provider answers again
    const down: Measured = { kind: 'error', message: 'connect ECONNREFUSED 10.0.0.1:9090' };
    const patient = { ...ANALYSIS, consecutiveErrorLimit: 3 };

    // Act
    const results = await run([down, down, down, value(0.01), value(0.01), value(0.01)], patient);

    // Assess: three errors leave the step measuring; it passes after three measurements that were taken
    expect(results.map((r) => r.verdict)).toEqual([
      'continue',
      'continue',
      'continue',
      'continue',
      'continue',
      'passed',
    ]);
    expect(results[2]?.description).toBe('canary 10% · 0/3 checks passed · 3 errors');
  });

  it('is inconclusive when neither condition holds more often than inconclusiveLimit', async () => {
    const both = {
      ...ANALYSIS,
      metrics: [metric({ successCondition: 'result[0] < 0.05', failureCondition: 'result[0] > 0.1' })],
    };
    const results = await run([value(0.07)], both);
    expect(results.map((r) => r.verdict)).toEqual(['inconclusive']);
  });

  it('waits for a Job that is still running: nothing is counted', async () => {
    const results = await run([{ kind: 'pending', message: 'Job running' }, value(0.01), value(0.01), value(0.01)]);
    expect(results.map((r) => [r.verdict, r.tally.rounds])).toEqual([
      ['continue', 0],
      ['continue', 1],
      ['continue', 2],
      ['passed', 3],
    ]);
  });
});
