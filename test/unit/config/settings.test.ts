import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INTAKE_GITHOST_BUDGET, loadPipelineConfig, webhookSettings } from '../../../adapters/settings';
import { parseConfig, type SteplineConfig, sealConfig } from '../../../core/config';
import { ConfigError } from '../../../core/errors';
import { replaySettings } from '../../../functions/replay/settings';

const ROOT = join(__dirname, '../../..');
const FIXTURES = join(__dirname, '../../fixtures/config');
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stepline-pipeline';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/stepline-parking';
const INLINE = JSON.stringify({
  version: 1,
  repositories: [{ provider: 'github', name: 'acme/shop', build: { imageRepository: 'acme/shop' } }],
});

function thrown(act: () => unknown): ConfigError {
  try {
    act();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loading the pipeline configuration', () => {
  it('reads STEPLINE_CONFIG as inline JSON', () => {
    // Act
    const config = loadPipelineConfig({ STEPLINE_CONFIG: INLINE });

    // Assess
    expect(config.repositories[0]).toMatchObject({ name: 'acme/shop', branches: [], paths: { include: ['**'] } });
  });

  it('reads STEPLINE_CONFIG as a path relative to the working folder', () => {
    // Act
    const config = loadPipelineConfig({ STEPLINE_CONFIG: 'stepline.config.json' }, ROOT);

    // Assess
    expect(config.repositories).toHaveLength(2);
  });

  it('names the field and the reason when the document is invalid', () => {
    // Act
    const error = thrown(() => loadPipelineConfig({ STEPLINE_CONFIG: join(FIXTURES, 'invalid.json') }));

    // Assess
    expect(error.issues).toEqual([
      {
        path: 'repositories[0].branches[0].environments[0]',
        message: 'names environment "prod", which is not defined under "environments"',
      },
    ]);
    expect(error.message).toContain(join(FIXTURES, 'invalid.json'));
  });

  it.each([
    [{ version: 2, repositories: [] }, 'version'],
    [{ version: 1, repositories: [] }, 'repositories'],
    [
      { version: 1, repositories: [{ provider: 'gitea', name: 'a/b', build: { imageRepository: 'a' } }] },
      'repositories[0].provider',
    ],
    [
      { version: 1, repositories: [{ provider: 'github', name: 'shop', build: { imageRepository: 'a' } }] },
      'repositories[0].name',
    ],
    [
      { version: 1, repositories: [{ provider: 'github', name: 'a/b', build: {} }] },
      'repositories[0].build.imageRepository',
    ],
  ])('names %j as wrong at %s', (document, path) => {
    // Act
    const error = thrown(() => loadPipelineConfig({ STEPLINE_CONFIG: JSON.stringify(document) }));

    // Assess
    expect(error.issues.map((i) => i.path)).toContain(path);
    expect(error.message).toContain('STEPLINE_CONFIG (inline JSON)');
  });

  it('says when STEPLINE_CONFIG is unset, or names a file that does not exist', () => {
    // Act
    const unset = thrown(() => loadPipelineConfig({}));
    const missing = thrown(() => loadPipelineConfig({ STEPLINE_CONFIG: '/nowhere/stepline.config.json' }));

    // Assess
    expect(unset.message).toMatch(/^STEPLINE_CONFIG: is not set/);
    expect(missing.message).toBe('STEPLINE_CONFIG: names /nowhere/stepline.config.json, which does not exist');
  });

  it('says when the file is not JSON', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'stepline-config-'));
    writeFileSync(join(dir, 'broken.json'), '{ "version": 1,');

    // Act
    const error = thrown(() => loadPipelineConfig({ STEPLINE_CONFIG: 'broken.json' }, dir));

    // Assess
    expect(error.message).toMatch(/broken\.json: not JSON/);
  });
});

describe('loading a sealed configuration', () => {
  const example = () => parseConfig(readFileSync(join(ROOT, 'stepline.config.json'), 'utf8'), 'example');

  function sealedFile(document: unknown): string {
    const dir = mkdtempSync(join(tmpdir(), 'stepline-sealed-'));
    writeFileSync(join(dir, 'stepline.config.json'), JSON.stringify(document, null, 2));
    return join(dir, 'stepline.config.json');
  }

  it('reads a sealed file to the configuration that was sealed', () => {
    // Prepare
    const path = sealedFile(sealConfig(example()));

    // Act
    const config = loadPipelineConfig({ STEPLINE_CONFIG: path });

    // Assess
    expect(config).toEqual(example());
  });

  it('uses a sealed document whose digest matches as it is, without validating it again', () => {
    // Prepare: a sealed document the schema would refuse, which only an unvalidated path could return
    const unvalidated = { version: 1, repositories: [] } as unknown as SteplineConfig;

    // Act
    const config = loadPipelineConfig({ STEPLINE_CONFIG: JSON.stringify(sealConfig(unvalidated)) });

    // Assess
    expect(config).toEqual({ version: 1, repositories: [] });
  });

  it('validates a sealed document whose digest does not match, and uses it when it is valid', () => {
    // Prepare: edited after sealing (a timeout changed by hand)
    const sealed = JSON.parse(JSON.stringify(sealConfig(example())));
    sealed.config.repositories[0].build.timeoutMinutes = 45;

    // Act
    const config = loadPipelineConfig({ STEPLINE_CONFIG: sealedFile(sealed) });

    // Assess
    expect(config.repositories[0]!.build.timeoutMinutes).toBe(45);
  });

  it('refuses a sealed document whose digest does not match and whose configuration is invalid, naming both', () => {
    // Prepare
    const sealed = JSON.parse(JSON.stringify(sealConfig(example())));
    sealed.config.repositories[0].build.imageRepository = 'Not A Repository';
    const path = sealedFile(sealed);

    // Act
    const error = thrown(() => loadPipelineConfig({ STEPLINE_CONFIG: path }));

    // Assess
    expect(error.issues.map((i) => i.path)).toEqual(['repositories[0].build.imageRepository']);
    expect(error.message).toContain(`${path} (sealed, but its digest does not match its configuration)`);
  });
});

describe('the webhook function settings', () => {
  const env = {
    STEPLINE_CONFIG: INLINE,
    STATE_MACHINE_ARN: ARN,
    WEBHOOK_SECRET: 'current',
    PARKING_QUEUE_URL: QUEUE,
    AWS_REGION: 'eu-west-1',
  };

  it('reads every setting, with the defaults', () => {
    // Act
    const settings = webhookSettings(env);

    // Assess
    expect(settings).toMatchObject({
      stateMachineArn: ARN,
      secrets: { kind: 'static', current: 'current', previous: null },
      maxBodyBytes: 4 * 1024 * 1024,
      parkingQueueUrl: QUEUE,
    });
  });

  it('prefers Secrets Manager when WEBHOOK_SECRET_ARN is set', () => {
    // Act
    const settings = webhookSettings({
      ...env,
      WEBHOOK_SECRET_ARN: 'stepline/webhook',
      WEBHOOK_SECRET_TTL_SECONDS: '60',
    });

    // Assess
    expect(settings.secrets).toEqual({ kind: 'secrets-manager', secretId: 'stepline/webhook', ttlSeconds: 60 });
  });

  it.each([
    [{ STATE_MACHINE_ARN: undefined }, /^STATE_MACHINE_ARN: is not set/],
    [{ STATE_MACHINE_ARN: 'pipeline' }, /^STATE_MACHINE_ARN: must be a state machine ARN/],
    [{ WEBHOOK_SECRET: undefined }, /^WEBHOOK_SECRET_ARN: is not set, and neither is WEBHOOK_SECRET/],
    [{ WEBHOOK_MAX_BODY_BYTES: 'lots' }, /^WEBHOOK_MAX_BODY_BYTES: must be a positive whole number, got "lots"/],
    [{ PARKING_QUEUE_URL: undefined }, /^PARKING_QUEUE_URL: is not set/],
    [{ PARKING_QUEUE_URL: 'stepline-parking' }, /^PARKING_QUEUE_URL: must be a URL/],
  ])('fails at start naming the variable (%j)', (change, message) => {
    // Act
    const error = thrown(() => webhookSettings({ ...env, ...change }));

    // Assess
    expect(error.message).toMatch(message);
    expect(error.issues[0]!.path).toBe(error.message.split(':')[0]);
  });

  it('leaves the region and any endpoint override to the SDK, which reads them from the environment itself', () => {
    // Act
    const settings = webhookSettings({ ...env, AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:8080' });

    // Assess
    expect(Object.keys(settings).sort()).toEqual(
      [
        'commandQueueUrl',
        'commits',
        'config',
        'deploymentsTable',
        'handoffArtifactsBucket',
        'handoffSecretId',
        'maxBodyBytes',
        'parkingQueueUrl',
        'secrets',
        'stateMachineArn',
      ].sort(),
    );
  });

  it("reads the Git host tokens secret and the hosts' API URLs for resolving commits, within the intake's budget", () => {
    // Act
    const settings = webhookSettings({
      ...env,
      STEPLINE_GITHOST_TOKENS_SECRET: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tokens-AbCdEf',
      STEPLINE_BITBUCKET_API_URL: 'http://127.0.0.1:9000/bitbucket/2.0',
      // Ignored: with the secret, the tokens are the secret's.
      STEPLINE_BITBUCKET_TOKEN: 'not-this-one',
    });

    // Assess
    expect(settings.commits).toEqual({
      gitHost: {
        baseUrls: { github: undefined, gitlab: undefined, bitbucket: 'http://127.0.0.1:9000/bitbucket/2.0' },
        ...INTAKE_GITHOST_BUDGET,
      },
      tokens: { secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tokens-AbCdEf' },
    });
    // Two tries of 3 s and a short wait stay within the 10 s a Git host waits for a delivery's answer.
    const { timeoutMs, retries, maxWaitMs } = INTAKE_GITHOST_BUDGET;
    expect(timeoutMs * (1 + retries) + maxWaitMs * retries).toBeLessThanOrEqual(7000);
  });

  it('reads the Git host tokens from the environment when no secret is given, and names a bad API URL', () => {
    // Act
    const settings = webhookSettings({
      ...env,
      STEPLINE_BITBUCKET_USERNAME: 'ci',
      STEPLINE_BITBUCKET_APP_PASSWORD: 'pw',
    });
    const error = thrown(() => webhookSettings({ ...env, STEPLINE_GITLAB_API_URL: 'gitlab.example.com' }));

    // Assess
    expect(settings.commits.tokens).toEqual({
      values: expect.objectContaining({ bitbucketUsername: 'ci', bitbucketAppPassword: 'pw', github: null }),
    });
    // The status functions' reader and message (adapters/githost/settings.ts): one reader of the Git host variables.
    expect(error.message).toMatch(/^STEPLINE_GITLAB_API_URL: must be an http\(s\) URL/);
  });

  it("reads the hosts' API URLs as the status functions do: http(s) only, the tokens are sent there", () => {
    // Act
    const settings = webhookSettings({ ...env, STEPLINE_GITHUB_API_URL: 'https://ghe.example.com/api/v3/' });
    const error = thrown(() => webhookSettings({ ...env, STEPLINE_GITHUB_API_URL: 'ftp://ghe.example.com/api/v3' }));

    // Assess
    expect(settings.commits.gitHost.baseUrls).toEqual({ github: 'https://ghe.example.com/api/v3' });
    expect(error.message).toMatch(/^STEPLINE_GITHUB_API_URL: must be an http\(s\) URL/);
    expect(error.issues[0]?.path).toBe('STEPLINE_GITHUB_API_URL');
  });

  it('reads the comment commands queue when the Approvals construct gives one, and none otherwise', () => {
    // Act
    const without = webhookSettings(env);
    const given = webhookSettings({
      ...env,
      STEPLINE_APPROVAL_COMMANDS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/commands',
    });

    // Assess
    expect(without.commandQueueUrl).toBeNull();
    expect(given.commandQueueUrl).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/commands');
  });

  it('reads the replay settings', () => {
    // Act
    const settings = replaySettings({ STATE_MACHINE_ARN: ARN, AWS_REGION: 'eu-west-1' });

    // Assess
    expect(settings).toEqual({ stateMachineArn: ARN });
  });

  it.each([
    [{}, /^STATE_MACHINE_ARN: is not set/],
    [{ STATE_MACHINE_ARN: 'pipeline' }, /^STATE_MACHINE_ARN: must be a state machine ARN/],
  ])('fails the replay at start naming the variable (%j)', (env, message) => {
    // Act
    const error = thrown(() => replaySettings(env));

    // Assess
    expect(error.message).toMatch(message);
    expect(error.issues[0]!.path).toBe('STATE_MACHINE_ARN');
  });
});
