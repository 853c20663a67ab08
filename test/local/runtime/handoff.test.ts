import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../local/cli';
import type { Runtime } from '../../../local/runtime';
import { handoffSecretsPath } from '../../../local/runtime/handoff-secrets';
import type { ExecutionRecord } from '../../../local/store';
import { manifests } from './sample';
import { pipelineConfig, removeDir, startTestRuntime, tempDir, waitFor } from './support';

/**
 * A hand-off on the local runtime (issue 20, ADR 0100): another CI built `registry.example.com/acme/hello` and put
 * the rendered manifests in a folder; `stepline deploy` (and a plain signed POST, as the README's curl sends it)
 * hands them off to `/webhooks/generic`, and the run deploys that image by digest to the simulated cluster with no
 * build. The source's secret is the one the runtime generated into its state folder.
 */

const run = promisify(execFile);
const REPOSITORY = 'acme/hello';
const COMMIT = '3'.repeat(40);
const IMAGE = `registry.example.com/acme/hello@sha256:${'e'.repeat(64)}`;

let runtime: Runtime;
let artifacts: string;

beforeAll(async () => {
  artifacts = tempDir('handoff-artifacts');
  mkdirSync(join(artifacts, 'build-7', 'staging'), { recursive: true });
  // The Deployment's container is named after the image repository's last segment, as the deploy matches it.
  const yaml = manifests('handoff').replace('- name: handoff\n          image', '- name: hello\n          image');
  writeFileSync(join(artifacts, 'build-7', 'staging', 'app.yaml'), yaml);
  const config = {
    ...pipelineConfig({
      repository: REPOSITORY,
      environments: {
        staging: {
          cluster: { type: 'kubeconfig' },
          namespace: 'handoff',
          clusterScopedKinds: ['Namespace'],
          manifests: 'staging',
          rollout: { timeoutSeconds: 60, pollSeconds: 2 },
        },
      },
    }),
    handoffs: {
      sources: {
        jenkins: {
          repositories: [{ name: REPOSITORY, environments: ['staging'] }],
          registries: ['registry.example.com/acme'],
          manifests: [`file://${artifacts}/`],
        },
      },
    },
  };
  runtime = await startTestRuntime({ config: config as never, clock: 'virtual' });
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  if (runtime) removeDir(runtime.stateDir);
  if (artifacts) removeDir(artifacts);
});

async function ended(executionArn: string): Promise<ExecutionRecord> {
  return waitFor(
    `the end of ${executionArn}`,
    () => {
      const e = runtime.stores.executions.getExecution(executionArn);
      return e && e.status !== 'RUNNING' ? e : undefined;
    },
    60_000,
  );
}

function imageIn(namespace: string): string | undefined {
  const live = runtime.cluster?.object('apps/v1', 'Deployment', namespace, namespace) as
    | { spec: { template: { spec: { containers: { image: string }[] } } } }
    | undefined;
  return live?.spec.template.spec.containers[0]?.image;
}

/** Runs the CLI, capturing what it prints. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

const deployArgs = (delivery: string, extra: string[] = []) => [
  'deploy',
  '--url',
  runtime.url,
  '--image',
  IMAGE,
  '--commit',
  COMMIT,
  '--ref',
  'main',
  '--repository',
  REPOSITORY,
  '--manifests',
  `file://${artifacts}/build-7`,
  '--source',
  'jenkins',
  '--secret-file',
  handoffSecretsPath(runtime.stateDir),
  '--delivery',
  delivery,
  '--json',
  ...extra,
];

describe('a hand-off on the local runtime', () => {
  it('stepline deploy deploys the image given to the simulated cluster, without any build', {
    timeout: 120_000,
  }, async () => {
    // Act
    const sent = await cli(deployArgs('jenkins-hello-7'));
    const answer = JSON.parse(sent.out) as Record<string, unknown>;
    const execution = await ended(String(answer['executionArn']));

    // Assess
    expect(sent.code).toBe(0);
    expect(answer).toMatchObject({ httpStatus: 202, status: 'started', delivery: 'jenkins-hello-7' });
    expect(execution.status, execution.cause ?? '').toBe('SUCCEEDED');
    expect(imageIn('handoff')).toBe(IMAGE);
    expect(runtime.stores.builds.list({ executionArn: execution.arn })).toEqual([]);
    const states = runtime.stores.executions
      .history(execution.arn)
      .filter((e) => e.type.endsWith('StateEntered'))
      .map((e) => (e['stateEnteredEventDetails'] as { name?: string }).name);
    expect(states).not.toContain('Build');
    expect(states).toContain('Deploy');
  });

  it('answers the same delivery again 200 duplicate and starts nothing new', { timeout: 60_000 }, async () => {
    // Prepare
    const count = () => runtime.stores.executions.listExecutions({}, 100).items.length;
    const before = count();

    // Act
    const again = await cli(deployArgs('jenkins-hello-7'));

    // Assess
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ httpStatus: 200, status: 'duplicate', duplicate: true });
    expect(count()).toBe(before);
  });

  it('refuses an image by tag, naming the field, and exits 1', async () => {
    // Act
    const refused = await cli([...deployArgs('jenkins-hello-8'), '--image', 'registry.example.com/acme/hello:7']);

    // Assess
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out)).toMatchObject({ httpStatus: 400, error: 'image_not_by_digest' });
  });

  it('docs/handoff/handoff.sh (curl and openssl) hands off as stepline deploy does', { timeout: 60_000 }, async () => {
    // Prepare
    const secrets = JSON.parse(readFileSync(handoffSecretsPath(runtime.stateDir), 'utf8')) as Record<string, string>;
    const script = join(__dirname, '..', '..', '..', 'docs', 'handoff', 'handoff.sh');
    const env = {
      PATH: process.env['PATH'],
      STEPLINE_URL: runtime.url,
      STEPLINE_HANDOFF_SOURCE: 'jenkins',
      STEPLINE_HANDOFF_SECRET: secrets['jenkins'],
      REPOSITORY,
      COMMIT,
      REF: 'refs/heads/main',
      IMAGE: `registry.example.com/acme/hello@sha256:${'9'.repeat(64)}`,
      MANIFESTS: `file://${artifacts}/build-7`,
      ENVIRONMENTS: 'staging',
    };

    // Act
    const { stdout } = await run('sh', [script], { env });
    const answer = JSON.parse(stdout) as Record<string, unknown>;
    const again = JSON.parse((await run('sh', [script], { env })).stdout) as Record<string, unknown>;
    const refused = await run('sh', [script], { env: { ...env, ENVIRONMENTS: 'production' } }).catch(
      (error: { code: number; stdout: string }) => error,
    );

    // Assess
    expect(answer).toMatchObject({ status: 'started' });
    expect(again).toMatchObject({ status: expect.stringMatching(/^(started|duplicate)$/), name: answer['name'] });
    expect(refused).toMatchObject({ code: 22 });
    expect(JSON.parse((refused as { stdout: string }).stdout)).toMatchObject({ error: 'environment_not_allowed' });
    const execution = await ended(String(answer['executionArn']));
    expect(execution.status, execution.cause ?? '').toBe('SUCCEEDED');
    expect(imageIn('handoff')).toBe(env.IMAGE);
  });

  it('takes a signed POST as the README’s curl sends it; a forged one is 401', async () => {
    // Prepare
    const secrets = JSON.parse(readFileSync(handoffSecretsPath(runtime.stateDir), 'utf8')) as Record<string, string>;
    const body = JSON.stringify({
      repository: REPOSITORY,
      commit: COMMIT,
      ref: 'refs/heads/main',
      image: `registry.example.com/acme/hello@sha256:${'f'.repeat(64)}`,
      manifests: `file://${artifacts}/build-7`,
      environments: ['production'],
    });
    const post = (secret: string) =>
      fetch(`${runtime.url}/webhooks/generic`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-Stepline-Source': 'jenkins',
          'X-Stepline-Delivery': 'curl-1',
          'X-Stepline-Signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
        },
        body,
      });

    // Act
    const forged = await post('not the secret');
    const signed = await post(secrets['jenkins']!);

    // Assess
    expect(forged.status).toBe(401);
    expect(signed.status).toBe(403);
    expect(await signed.json()).toMatchObject({ error: 'environment_not_allowed' });
  });
});
