import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../runtime';
import { DemoError } from './errors';
import { commitChange, type SampleRepository } from './repository';
import { deliver, githubPush } from './webhook';

/**
 * `stepline demo --canary` (ADR 0067): staging rolls the sample out as a canary, 25% then 50% of its replicas, each
 * step measured twice by the runtime's metrics source (`stepline_demo_http_error_ratio` of the canary track, through
 * the analysis function's Prometheus provider). A canary needs a version to compare with: the demo first deploys
 * the sample's first commit directly, then pushes a change that goes out as the canary. `--break metrics` raises the
 * canary track's error ratio to 25% before that push: the analysis fails and the canary is aborted.
 */

export const CANARY_NAMESPACE = 'hello-staging';
export const CANARY_DEPLOYMENT = 'hello-service';
/** The error ratio `--break metrics` gives the canary track (the analysis wants under 5%). */
export const BROKEN_ERROR_RATIO = 0.25;

/** The sample's configuration with a canary on staging, which is then the only environment (no production gate). */
export function canaryConfig(text: string): string {
  const config = JSON.parse(text) as {
    repositories: { branches: { environments: string[] }[]; environments: Record<string, Record<string, unknown>> }[];
  };
  const repository = config.repositories[0];
  if (!repository?.environments['staging'])
    throw new DemoError("the sample's configuration has no staging environment");
  for (const branch of repository.branches) branch.environments = ['staging'];
  repository.environments['staging'] = {
    ...repository.environments['staging'],
    strategy: {
      type: 'canary',
      steps: [
        { weight: 25, pauseSeconds: 0 },
        { weight: 50, pauseSeconds: 0 },
      ],
      analysis: {
        interval: 5,
        count: 2,
        metrics: [
          {
            name: 'error-ratio',
            provider: {
              prometheus: {
                address: 'http://prometheus.stepline.local',
                query: `stepline_demo_http_error_ratio{namespace="${CANARY_NAMESPACE}",deployment="${CANARY_DEPLOYMENT}",track="canary"}`,
              },
            },
            successCondition: 'result[0] < 0.05',
          },
        ],
      },
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * Deploys the repository's current commit directly (the run a canary compares with), then commits the change that
 * goes out as the canary; with `breakMetrics`, the canary track's error ratio goes up. Answers the repository at the
 * new commit.
 */
export async function prepareCanary(
  runtime: Runtime,
  repository: SampleRepository,
  options: { readonly breakMetrics: boolean; readonly say: (name: string, value: string) => void },
): Promise<SampleRepository> {
  const answer = await deliver(runtime.url, githubPush(repository, runtime.webhookSecret));
  const arn = typeof answer.body['executionArn'] === 'string' ? answer.body['executionArn'] : null;
  if (answer.status !== 202 || !arn) {
    throw new DemoError(`the first run did not start: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  const status = await new Promise<string>((resolve) => {
    const check = (): void => {
      const record = runtime.stores.executions.getExecution(arn);
      if (record && record.status !== 'RUNNING') {
        runtime.events.off('event', check);
        resolve(record.status);
      }
    };
    runtime.events.on('event', check);
    check();
  });
  if (status !== 'SUCCEEDED') throw new DemoError(`the first run, which the canary compares with, ended ${status}`);
  options.say(
    'first run',
    `${repository.head.slice(0, 7)} deployed to staging directly: the version the canary replaces`,
  );
  const file = join(repository.dir, 'deploy', 'environments.json');
  const environments = readFileSync(file, 'utf8').replace('Hello from staging', 'Hello from the canary');
  const next = await commitChange(repository, { 'deploy/environments.json': environments }, 'Greet from the canary');
  if (options.breakMetrics) {
    runtime.metricsSource.setErrorRatio(CANARY_NAMESPACE, CANARY_DEPLOYMENT, 'canary', BROKEN_ERROR_RATIO);
    options.say(
      '',
      `(--break metrics: the canary's error ratio is ${BROKEN_ERROR_RATIO * 100}%, the analysis wants under 5%)`,
    );
  }
  return next;
}
