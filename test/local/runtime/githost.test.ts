import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StaticTokenSource } from '../../../adapters/githost/tokens';
import type { Provider } from '../../../core/config/schema';
import { ConfigError } from '../../../core/errors';
import type { PipelineRequest } from '../../../core/intake/types';
import { statusSettings } from '../../../functions/status/settings';
import { localGitHost } from '../../../local/runtime/githost';
import { type FakeGitHost, startFakeGitHost } from '../../support/githost/fake-git-host';

/**
 * The local runtime's Git host settings (local/runtime/githost.ts): the credentials read with the status functions'
 * variable names, as functions/status/settings.ts reads them, a GitHub App's among them (ADR 0091); and the commit
 * lookup the local webhook asks for a repository that is not on this machine (ADR 0090), on the fake Git host.
 */

const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
});
const FULL = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c';

/** What a reader throws: the ConfigError, or null when it reads the settings. */
function failure(read: () => unknown): ConfigError | null {
  try {
    read();
    return null;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}
let host: FakeGitHost;

beforeAll(async () => {
  host = await startFakeGitHost({
    expectAuth: { bitbucket: { header: 'authorization', value: 'Bearer bitbucket-token' } },
  });
});
afterAll(async () => {
  await host?.close();
});
beforeEach(() => host.reset());

describe("the local runtime's Git host settings", () => {
  it('reads the credentials the status functions read, a GitHub App (its id and key) among them', async () => {
    // Prepare
    const env = {
      STEPLINE_GITHUB_APP_ID: '424242',
      STEPLINE_GITHUB_APP_PRIVATE_KEY: privateKey,
      STEPLINE_GITLAB_TOKEN: 'glpat-local',
      STEPLINE_BITBUCKET_USERNAME: 'ci',
      STEPLINE_BITBUCKET_APP_PASSWORD: 'app-password',
    };
    const settings = statusSettings(env);
    const functions = new StaticTokenSource('values' in settings.tokens ? settings.tokens.values : {});

    // Act
    const { tokens } = localGitHost(env, 'http://127.0.0.1:8080');

    // Assess
    expect(await tokens.credential('github')).toEqual({
      scheme: 'github-app',
      appId: '424242',
      privateKey: privateKey.trim(),
    });
    for (const provider of ['github', 'gitlab', 'bitbucket'] as Provider[]) {
      expect(await tokens.credential(provider), provider).toEqual(await functions.credential(provider));
    }
  });

  it('reads the API URLs and the budget as the status functions do: the same values, the same ConfigError', () => {
    // Prepare
    const env = {
      STEPLINE_GITHUB_API_URL: 'https://ghe.example.com/api/v3/',
      STEPLINE_GITLAB_API_URL: 'https://gitlab.example.com/api/v4',
      STEPLINE_GITHOST_TIMEOUT_MS: '2500',
      STEPLINE_GITHOST_RETRIES: '0',
      STEPLINE_STATUS_CONTEXT: 'ci',
    };

    // Act
    const { settings } = localGitHost(env, 'http://127.0.0.1:8080');
    const invalid = [
      { STEPLINE_BITBUCKET_API_URL: 'api.bitbucket.org/2.0' },
      { STEPLINE_GITHUB_API_URL: 'ftp://ghe.example.com' },
      { STEPLINE_GITHOST_TIMEOUT_MS: 'soon' },
      { STEPLINE_GITHOST_MAX_WAIT_MS: '-5' },
    ].map((bad) => [failure(() => localGitHost(bad, 'http://127.0.0.1:8080')), failure(() => statusSettings(bad))]);

    // Assess
    const functions = statusSettings(env).gitHost;
    expect(settings).toMatchObject({
      baseUrls: functions.baseUrls,
      timeoutMs: 2500,
      retries: 0,
      maxWaitMs: functions.maxWaitMs,
      contextPrefix: 'ci',
    });
    expect(settings.baseUrls.github).toBe('https://ghe.example.com/api/v3');
    for (const [local, lambda] of invalid) {
      expect(local).toBeInstanceOf(ConfigError);
      expect(local?.message).toBe(lambda?.message);
    }
  });

  it("asks the host's commit API, with the runtime's credential, for a commit of a repository not on this machine", async () => {
    // Prepare
    host.addCommit('bitbucket', 'acme/payments', FULL);
    const { commits } = localGitHost(
      { STEPLINE_BITBUCKET_API_URL: host.baseUrl('bitbucket'), STEPLINE_BITBUCKET_TOKEN: 'bitbucket-token' },
      'http://127.0.0.1:8080',
    );

    // Act
    const sha = await commits.resolve({
      provider: 'bitbucket',
      repository: 'acme/payments',
      commit: FULL.slice(0, 12),
      request: {} as PipelineRequest,
    });

    // Assess
    expect(sha).toBe(FULL);
    expect(host.requests.map((r) => [r.path, r.headers['authorization']])).toEqual([
      [`/repositories/acme/payments/commit/${FULL.slice(0, 12)}`, 'Bearer bitbucket-token'],
    ]);
  });
});
