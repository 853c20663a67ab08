import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployedImage, statuses } from './support/checks';
import { writeReport } from './support/report';
import { serviceRepository } from './support/repository';
import { AwsWorld } from './support/world';

/**
 * A hand-off from another CI on the platform as synthesized (issue 20, ADR 0100): the other CI rendered the
 * manifests and put them in the stack's artifacts bucket (`s3://{artifactsBucket}/handoffs/...`, as its
 * configuration allows), then signs a hand-off with the stack's HandoffSecret (its generated "default" source)
 * and posts it to the HTTP API's `POST /webhooks/generic`. The webhook bundle reads the secret with its role, the
 * run starts at the promotion, and the deploy bundle reads the manifests with its role and applies the image by
 * digest to EKS (the simulated API server), with no build.
 */

const run = promisify(execFile);
let world: AwsWorld;

beforeAll(async () => {
  world = await AwsWorld.start({
    clusters: [{ name: 'stepline-e2e', authenticationMode: 'API_AND_CONFIG_MAP' }],
    namespaces: ['handoff-staging'],
  });
}, 600_000);

afterAll(async () => {
  if (world)
    console.log(
      ['AWS calls and unused permissions by role:', ...writeReport(world, 'aws-composition-handoff')].join('\n'),
    );
  await world?.stop();
});

/** The stack's resource of a type whose logical id matches, as its physical name or ARN. */
function resource(type: string, pattern: RegExp): string {
  const id = world.values.resourcesOf(type).find((logical) => pattern.test(logical));
  if (!id) throw new Error(`the template has no ${type} matching ${pattern}`);
  return world.values.ref(id);
}

describe('a hand-off on the platform as synthesized', () => {
  it('HandoffTest: deploys the image another CI built, from its manifests in the artifacts bucket, with no build', {
    timeout: 420_000,
  }, async () => {
    // Prepare: the other CI's build: an image by digest, and the manifests rendered into the artifacts bucket.
    const repository = await serviceRepository('handoff', ['staging']);
    await run('node', ['scripts/render-manifests.js', 'out'], { cwd: repository.dir });
    const bucket = resource('AWS::S3::Bucket', /Artifacts/);
    const prefix = `manifests/handoffs/jenkins-42`;
    for (const file of readdirSync(join(repository.dir, 'out', 'staging')).filter((f) => f !== 'namespace.yaml')) {
      await world.clients.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${prefix}/staging/${file}`,
          Body: readFileSync(join(repository.dir, 'out', 'staging', file)),
        }),
      );
    }
    const secrets = JSON.parse(
      (
        await world.clients.secretsManager.send(
          new GetSecretValueCommand({ SecretId: resource('AWS::SecretsManager::Secret', /HandoffSecret/) }),
        )
      ).SecretString!,
    ) as Record<string, string>;
    const image = `registry.example.com/stepline-demo/hello-service@sha256:${'4'.repeat(64)}`;
    const body = JSON.stringify({
      repository: repository.name,
      commit: repository.head,
      ref: 'refs/heads/main',
      image,
      manifests: `s3://${bucket}/${prefix}`,
    });
    const headers = {
      'Content-Type': 'application/json',
      'X-Stepline-Source': 'default',
      'X-Stepline-Delivery': 'jenkins-42',
      'X-Stepline-Signature-256': `sha256=${createHmac('sha256', secrets['default']!).update(body).digest('hex')}`,
    };

    // Act
    const answer = await world.deliver('generic', { headers, body });
    const again = await world.deliver('generic', { headers, body });
    const record = await world.ended(String(answer.body['executionArn']));

    // Assess
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(again.body['name']).toBe(answer.body['name']);
    expect(record.status, `${record.error}: ${record.cause}`).toBe('SUCCEEDED');
    expect(deployedImage(world, 'handoff-staging')).toBe(image);
    // No build ran: the image build project's role made no AWS call at all.
    const buildRole = writeReport(world, 'aws-composition-handoff').find((line) =>
      line.startsWith('BuildProjectsBuildRole'),
    );
    expect(buildRole).toMatch(/: 0 calls/);
    expect(statuses(world, repository.name, repository.head)).toMatchObject({
      stepline: 'success',
      'stepline/build': 'success',
      'stepline/deploy/staging': 'success',
    });
  });
});
