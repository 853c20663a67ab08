import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../core/config';
import { ConfigError } from '../../../core/errors';
import { routeEnvironment } from '../../../core/intake/route';
import { configJsonSchema } from '../../../scripts/generate-schema';

/** The `strategy` setting of an environment (ADR 0067): what is taken, what is refused, and the field named. */

function config(strategy: unknown): unknown {
  return {
    version: 1,
    repositories: [
      {
        provider: 'github',
        name: 'acme/shop',
        build: { imageRepository: 'acme/shop' },
        environments: {
          staging: {
            cluster: { type: 'eks', name: 'main' },
            namespace: 'shop',
            manifests: 'deploy/staging',
            ...(strategy === undefined ? {} : { strategy }),
          },
        },
      },
    ],
  };
}

const ANALYSIS = {
  interval: 30,
  count: 4,
  failureLimit: 1,
  metrics: [
    {
      name: 'errors',
      provider: { prometheus: { address: 'http://prometheus:9090', query: 'sum(rate(errors[1m]))' } },
      successCondition: 'result[0] < 0.05',
    },
  ],
};

function refusal(strategy: unknown): { path: string; message: string }[] {
  try {
    validateConfig(config(strategy), 'stepline.config.json');
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  throw new Error('the configuration was accepted');
}

const AT = 'repositories[0].environments.staging.strategy';

describe('the strategy setting', () => {
  it('defaults to a rolling update: the route carries no strategy', () => {
    // Act
    const parsed = validateConfig(config(undefined), 'inline');
    const environment = parsed.repositories[0]!.environments['staging']!;

    // Assess
    expect(environment.strategy).toBeUndefined();
    expect(routeEnvironment('staging', environment).strategy).toBeUndefined();
  });

  it('takes a canary with steps and an analysis, and gives the route the time it may hold the lock', () => {
    // Prepare
    const strategy = {
      type: 'canary',
      steps: [
        { weight: 10, pauseSeconds: 300 },
        { weight: 50, pauseSeconds: 600 },
      ],
      analysis: ANALYSIS,
    };

    // Act
    const parsed = validateConfig(config(strategy), 'inline');
    const route = routeEnvironment('staging', parsed.repositories[0]!.environments['staging']!);

    // Assess
    expect(route.strategy).toMatchObject({
      type: 'canary',
      steps: [
        { weight: 10, pauseSeconds: 300 },
        { weight: 50, pauseSeconds: 600 },
      ],
      analysis: { interval: 30, count: 4, failureLimit: 1, inconclusiveLimit: 0, consecutiveErrorLimit: 4 },
    });
    // Two steps of max(pause, 4 × 30) plus an hour's decision each, a rollout deadline per step and the promotion's.
    expect(route.strategy?.holdSeconds).toBe(300 + 3600 + 600 + 600 + 3600 + 600 + 600);
  });

  it.each([
    ['a weight above 100', [{ weight: 120 }], 'steps[0].weight', 'must be between 1 and 100'],
    ['a weight of 0', [{ weight: 0 }], 'steps[0].weight', 'must be between 1 and 100'],
    ['a fraction of a percent', [{ weight: 2.5 }], 'steps[0].weight', 'must be a whole percentage'],
    [
      'weights that do not increase',
      [{ weight: 20 }, { weight: 20 }],
      'steps[1].weight',
      'must be greater than the step before (20): weights only increase',
    ],
    [
      'weights that go down',
      [{ weight: 10 }, { weight: 50 }, { weight: 30 }],
      'steps[2].weight',
      'must be greater than the step before (50)',
    ],
  ])('refuses %s, naming the field', (_what, steps, field, message) => {
    // Act
    const issues = refusal({ type: 'canary', steps });

    // Assess
    expect(issues).toEqual([{ path: `${AT}.${field}`, message: expect.stringContaining(message) }]);
  });

  it('refuses a metric with no condition, and a metric named twice', () => {
    // Prepare
    const metric = ANALYSIS.metrics[0]!;
    const analysis = {
      ...ANALYSIS,
      metrics: [{ ...metric, name: 'latency', successCondition: undefined }, metric, metric],
    };

    // Act
    const issues = refusal({ type: 'canary', steps: [{ weight: 10 }], analysis });

    // Assess
    expect(issues.map((i) => i.path)).toEqual([
      `${AT}.analysis.metrics[0].successCondition`,
      `${AT}.analysis.metrics[2].name`,
    ]);
  });

  it('takes blue-green with its defaults', () => {
    // Act
    const parsed = validateConfig(config({ type: 'blueGreen', activeService: 'web' }), 'inline');

    // Assess
    expect(parsed.repositories[0]!.environments['staging']!.strategy).toEqual({
      type: 'blueGreen',
      activeService: 'web',
      previewSeconds: 0,
      scaleDownDelaySeconds: 30,
    });
  });

  it('is in the published JSON Schema, which refuses a weight outside 1-100 at its path', () => {
    // Prepare
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(configJsonSchema());

    // Act
    const ok = validate(config({ type: 'canary', steps: [{ weight: 101 }] }));

    // Assess
    expect(ok).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toContain(
      '/repositories/0/environments/staging/strategy/steps/0/weight',
    );
  });
});
