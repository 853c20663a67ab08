import { afterEach, describe, expect, it, vi } from 'vitest';
import { COORDINATION_ENV } from '../../../core/coordination/contracts';
import { DEPLOY_ENVIRONMENT_VARIABLES } from '../../../core/deploy/contracts';
import { ConfigError } from '../../../core/errors';
import { STATUS_ENV } from '../../../core/status/contracts';
import { coordinationSettings } from '../../../functions/coordination/settings';
import { deploySettings } from '../../../functions/deploy/settings';
import { statusSettings } from '../../../functions/status/settings';

/** What a function's settings reader throws for `env`: the ConfigError, or null when it reads them. */
function failure(read: () => unknown): ConfigError | null {
  try {
    read();
    return null;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

describe('functions/coordination settings', () => {
  it('reads the coordination table', () => {
    expect(coordinationSettings({ [COORDINATION_ENV.table]: 'coordination' })).toEqual({ table: 'coordination' });
  });

  it('throws a ConfigError naming STEPLINE_COORDINATION_TABLE when it is not set', () => {
    // Act
    const error = failure(() => coordinationSettings({ [COORDINATION_ENV.table]: '  ' }));

    // Assess
    expect(error?.message).toMatch(/^STEPLINE_COORDINATION_TABLE: is not set/);
    expect(error?.issues).toEqual([{ path: 'STEPLINE_COORDINATION_TABLE', message: expect.any(String) }]);
  });
});

describe('functions/deploy settings (deploy, rollout, rollback)', () => {
  it('reads the region, the kubeconfig override with its context, and the request timeout', () => {
    // Act
    const settings = deploySettings({
      [DEPLOY_ENVIRONMENT_VARIABLES.region]: 'eu-west-1',
      [DEPLOY_ENVIRONMENT_VARIABLES.kubeconfig]: '/tmp/kubeconfig',
      [DEPLOY_ENVIRONMENT_VARIABLES.kubeContext]: 'simulated',
      [DEPLOY_ENVIRONMENT_VARIABLES.requestTimeoutMs]: '5000',
    });

    // Assess
    expect(settings).toEqual({
      region: 'eu-west-1',
      cluster: { kubeconfigOverride: { path: '/tmp/kubeconfig', context: 'simulated' }, requestTimeoutMs: 5000 },
      gitops: null,
    });
  });

  it('reads the Git host tokens secret, base URLs and run links for GitOps environments when infra sets them', () => {
    expect(
      deploySettings({
        AWS_REGION: 'eu-west-1',
        STEPLINE_GITHOST_TOKENS_SECRET: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tokens',
        STEPLINE_RUN_LINK_URL: 'https://api.example.test',
      }).gitops,
    ).toEqual({
      tokensSecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tokens',
      baseUrls: {},
      runLinkUrl: 'https://api.example.test',
    });
  });

  it("reads the three hosts' API base URLs for GitOps writes, Bitbucket's too, without a trailing slash", () => {
    expect(
      deploySettings({
        AWS_REGION: 'eu-west-1',
        [STATUS_ENV.tokensSecret]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tokens',
        [STATUS_ENV.githubApiUrl]: 'https://ghe.example.com/api/v3/',
        [STATUS_ENV.gitlabApiUrl]: 'https://gitlab.example.com/api/v4',
        [STATUS_ENV.bitbucketApiUrl]: 'https://bitbucket-proxy.example.com/2.0',
      }).gitops?.baseUrls,
    ).toEqual({
      github: 'https://ghe.example.com/api/v3',
      gitlab: 'https://gitlab.example.com/api/v4',
      bitbucket: 'https://bitbucket-proxy.example.com/2.0',
    });
  });

  it('throws a ConfigError naming an API base URL that is not a URL', () => {
    const env = {
      AWS_REGION: 'eu-west-1',
      [STATUS_ENV.tokensSecret]: 'tokens',
      [STATUS_ENV.bitbucketApiUrl]: 'api.bitbucket.org/2.0',
    };
    expect(failure(() => deploySettings(env))?.message).toMatch(
      /^STEPLINE_BITBUCKET_API_URL: must be an http\(s\) URL/,
    );
  });

  it('throws a ConfigError naming the run-link URL for GitOps commits when it is not a URL, as the status functions do', () => {
    const env = {
      AWS_REGION: 'eu-west-1',
      [STATUS_ENV.tokensSecret]: 'tokens',
      [STATUS_ENV.runLinkUrl]: 'api.example.test',
    };
    expect(failure(() => deploySettings(env))?.message).toMatch(/^STEPLINE_RUN_LINK_URL: must be an http\(s\) URL/);
    expect(failure(() => statusSettings(env))?.message).toMatch(/^STEPLINE_RUN_LINK_URL: must be an http\(s\) URL/);
  });

  it('reaches the configured clusters, with a 30 s request timeout, when only the region is set', () => {
    expect(deploySettings({ AWS_REGION: 'eu-west-1' }).cluster).toEqual({
      kubeconfigOverride: null,
      requestTimeoutMs: 30_000,
    });
  });

  it.each([
    [{}, /^AWS_REGION: is not set/],
    [{ AWS_REGION: 'eu-west-1', STEPLINE_KUBE_TIMEOUT_MS: '30s' }, /^STEPLINE_KUBE_TIMEOUT_MS: must be a whole number/],
    [{ AWS_REGION: 'eu-west-1', STEPLINE_KUBE_TIMEOUT_MS: '0' }, /^STEPLINE_KUBE_TIMEOUT_MS: must be .* at least 1/],
  ])('throws a ConfigError naming the variable for %j', (env, message) => {
    expect(failure(() => deploySettings(env))?.message).toMatch(message);
  });
});

describe('functions/status settings (status, build-events, execution-events, approval)', () => {
  it('links to the AWS console of the region and reads the tokens from Secrets Manager when a secret is named', () => {
    // Act
    const settings = statusSettings({
      [STATUS_ENV.region]: 'eu-west-1',
      [STATUS_ENV.tokensSecret]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tokens',
      [STATUS_ENV.githubToken]: 'ghp_ignored',
    });

    // Assess
    expect(settings.tokens).toEqual({ secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tokens' });
    expect(settings.gitHost.links?.execution('arn:aws:states:eu-west-1:123456789012:execution:p:run')).toMatch(
      /^https:\/\/eu-west-1\.console\.aws\.amazon\.com\/states\//,
    );
    expect(settings.gitHost).toMatchObject({
      timeoutMs: 5000,
      retries: 3,
      maxWaitMs: 20_000,
      contextPrefix: 'stepline',
    });
  });

  it('takes the tokens, the API base URLs and the local console from the environment when no secret is named', () => {
    // Act
    const settings = statusSettings({
      [STATUS_ENV.consoleKind]: 'local',
      [STATUS_ENV.consoleUrl]: 'http://127.0.0.1:9090/',
      [STATUS_ENV.githubApiUrl]: 'https://github.example.com/api/v3',
      [STATUS_ENV.githubToken]: 'ghp_1',
      [STATUS_ENV.bitbucketUsername]: 'ci',
      [STATUS_ENV.bitbucketAppPassword]: 'app',
      [STATUS_ENV.httpRetries]: '0',
      [STATUS_ENV.contextPrefix]: 'ci',
    });

    // Assess
    expect(settings.tokens).toEqual({
      values: {
        github: 'ghp_1',
        gitlab: null,
        bitbucket: null,
        bitbucketUsername: 'ci',
        bitbucketAppPassword: 'app',
        githubAppId: null,
        githubAppPrivateKey: null,
      },
    });
    expect(settings.gitHost.baseUrls.github).toBe('https://github.example.com/api/v3');
    expect(settings.gitHost.baseUrls.gitlab).toBe('https://gitlab.com/api/v4');
    expect(settings.gitHost).toMatchObject({ retries: 0, contextPrefix: 'ci' });
    expect(settings.gitHost.links?.execution('arn:aws:states:us-east-1:1:execution:p:run')).toMatch(
      /^http:\/\/127\.0\.0\.1:9090\//,
    );
  });

  it.each([
    [{ STEPLINE_CONSOLE: 'azure' }, /^STEPLINE_CONSOLE: must be "aws" or "local", got "azure"/],
    [{ STEPLINE_GITLAB_API_URL: 'gitlab.example.com' }, /^STEPLINE_GITLAB_API_URL: must be an http\(s\) URL/],
    [{ STEPLINE_GITHOST_TIMEOUT_MS: '-1' }, /^STEPLINE_GITHOST_TIMEOUT_MS: must be a whole number/],
    [{ STEPLINE_GITHOST_RETRIES: 'three' }, /^STEPLINE_GITHOST_RETRIES: must be a whole number/],
  ])('throws a ConfigError naming the variable for %j', (env, message) => {
    expect(failure(() => statusSettings(env))?.message).toMatch(message);
  });

  it('never shows a long value whole in its message: a token put in the wrong variable stays secret', () => {
    const token = 'ghp_0123456789abcdefghijklmnopqrstuvwxyz';
    expect(failure(() => statusSettings({ STEPLINE_GITHUB_API_URL: token }))?.message).not.toContain(token);
  });
});

const SAVED = { ...process.env };

describe('the entry points at cold start', () => {
  afterEach(() => {
    process.env = { ...SAVED };
    vi.resetModules();
  });

  it('fails the coordination function init with a ConfigError naming the table variable when it is unset', async () => {
    // Prepare
    delete process.env[COORDINATION_ENV.table];

    // Act
    const load = import('../../../functions/coordination/index');

    // Assess
    await expect(load).rejects.toThrow(ConfigError);
    await expect(import('../../../functions/coordination/index')).rejects.toThrow(/STEPLINE_COORDINATION_TABLE/);
  });

  it('builds the coordination handler on AWS adapters when its table is set', async () => {
    // Prepare
    process.env[COORDINATION_ENV.table] = 'coordination';
    process.env['AWS_REGION'] = 'eu-west-1';

    // Act
    const entry = await import('../../../functions/coordination/index');

    // Assess
    expect(typeof entry.handler).toBe('function');
    expect(typeof entry.handler.use).toBe('function');
  });

  it('fails the status function init with a ConfigError when a variable is invalid', async () => {
    // Prepare
    process.env[STATUS_ENV.consoleKind] = 'gcp';

    // Act
    const load = import('../../../functions/status/index');

    // Assess
    await expect(load).rejects.toThrow(/^STEPLINE_CONSOLE: must be "aws" or "local"/);
  });
});
