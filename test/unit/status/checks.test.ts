import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appJwt, GitHubAppTransport } from '../../../adapters/githost/github-app';
import { gitHostSettings, transportFor } from '../../../adapters/githost/settings';
import { StaticTokenSource } from '../../../adapters/githost/tokens';
import type { StatusEvent } from '../../../core/status/contracts';
import { ConsoleLinks } from '../../../core/status/links';
import { reportStatus } from '../../../core/status/report';
import { type FakeGitHost, startFakeGitHost } from '../../support/githost/fake-git-host';
import { EXECUTION_ARN, pipelineRequest, route, SHA } from '../../support/githost/fixtures';
import { allSpecFindings } from '../../support/githost/specs';

/**
 * GitHub as a GitHub App (issue 17, "feedback where developers look"; ADR 0091): one check run per context, updated
 * in place, its description as the title and a Markdown summary, test failures as annotations at file and line (50
 * per request, GitHub's limit), the run's end closing what is still open; requests made with an installation token
 * from the App's JWT, and shaped as GitHub's OpenAPI description says.
 */

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
});
const APP = { appId: '424242', publicKey, installationId: 77, token: 'ghs_installation-token-for-tests' };
const links = new ConsoleLinks({ kind: 'aws', region: 'eu-west-1' });
let host: FakeGitHost;

function transport(): GitHubAppTransport {
  return new GitHubAppTransport({
    appId: APP.appId,
    privateKey,
    baseUrl: host.baseUrl('github'),
    backoff: () => 0,
    sleep: async () => {},
  });
}

function event(overrides: Partial<StatusEvent>): StatusEvent {
  return {
    request: pipelineRequest('github'),
    route: route(),
    executionArn: EXECUTION_ARN,
    step: 'pipeline',
    state: 'pending',
    ...overrides,
  };
}

const failures = Array.from({ length: 60 }, (_, i) => ({
  path: `services/api/basket.test.ts`,
  line: i + 1,
  message: `expected ${i} to be ${i + 1}`,
  title: `basket adds item ${i}`,
}));

beforeAll(async () => {
  host = await startFakeGitHost();
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => {
  host.reset();
  host.installGitHubApp(APP);
});

describe('a run reported as check runs', () => {
  it('keeps one check run per context, updated in place, and closes the open ones at the end', async () => {
    // Prepare
    const deps = { transport: transport(), links };

    // Act
    await reportStatus(event({ state: 'pending' }), deps);
    await reportStatus(event({ step: 'build', state: 'running', detail: { phase: 'BUILD' } }), deps);
    await reportStatus(event({ step: 'build', state: 'success' }), deps);
    await reportStatus(
      event({ step: 'test', suite: 'unit', state: 'failure', detail: { phase: 'BUILD', exitCode: 1, failures } }),
      deps,
    );
    const end = await reportStatus(
      event({ state: 'failure', detail: { failedStep: { step: 'test', suite: 'unit' } } }),
      deps,
    );

    // Assess
    const runs = host.checkRuns('acme/shop', SHA);
    expect(runs.map((r) => r.name)).toEqual([
      'stepline',
      'stepline/build',
      'stepline/test/unit',
      'stepline/test/e2e',
      'stepline/deploy/staging',
      'stepline/deploy/production',
    ]);
    expect(Object.fromEntries(runs.map((r) => [r.name, r.conclusion]))).toEqual({
      stepline: 'failure',
      'stepline/build': 'success',
      'stepline/test/unit': 'failure',
      'stepline/test/e2e': 'cancelled',
      'stepline/deploy/staging': 'cancelled',
      'stepline/deploy/production': 'cancelled',
    });
    expect(runs.every((r) => r.external_id === EXECUTION_ARN)).toBe(true);
    expect(end.failed).toBe(0);
    expect(host.statuses('github', 'acme/shop', SHA)).toEqual([]);
  });

  it("shows a suite's failures as annotations at file and line, in requests of at most 50, and in its summary", async () => {
    // Act
    await reportStatus(event({ step: 'test', suite: 'unit', state: 'failure', detail: { failures } }), {
      transport: transport(),
      links,
    });

    // Assess
    const [run] = host.checkRuns('acme/shop', SHA);
    expect(run?.annotations).toHaveLength(60);
    expect(run?.annotations[59]).toMatchObject({
      path: 'services/api/basket.test.ts',
      start_line: 60,
      end_line: 60,
      annotation_level: 'failure',
      message: 'expected 59 to be 60',
    });
    expect(run?.output).toMatchObject({ title: 'suite unit failed' });
    expect(String(run?.output.summary)).toContain('### 60 tests failed');
    expect(String(run?.output.summary)).toContain('`services/api/basket.test.ts:1` **basket adds item 0**');
    expect(run?.details_url).toBe(links.execution(EXECUTION_ARN));
  });

  it("makes every request as GitHub's OpenAPI description says, with one installation token", async () => {
    // Act
    const deps = { transport: transport(), links };
    await reportStatus(event({ state: 'pending' }), deps);
    await reportStatus(event({ step: 'test', suite: 'unit', state: 'failure', detail: { failures } }), deps);
    await reportStatus(event({ state: 'success' }), deps);

    // Assess
    expect(allSpecFindings(host.requests)).toEqual([]);
    expect(host.tokensIssued).toBe(1);
    expect(host.requests.some((r) => JSON.stringify(r.headers).includes('PRIVATE KEY'))).toBe(false);
  });

  it('is what a GitHub App in the tokens secret gives; a token keeps commit statuses', async () => {
    // Prepare
    const settings = gitHostSettings({ baseUrls: { github: host.baseUrl('github') } });
    const app = new StaticTokenSource({ githubAppId: APP.appId, githubAppPrivateKey: privateKey });

    // Act
    const asApp = await transportFor('github', settings, app);
    const withToken = await transportFor('github', settings, new StaticTokenSource({ github: 'ghp_token' }));

    // Assess
    expect(asApp?.checks).toBe(true);
    expect(withToken?.checks).toBeUndefined();
  });
});

describe("the App's JWT", () => {
  it('is RS256, issued by the App, 60 s back and at most 10 minutes ahead', () => {
    const [header, payload] = appJwt(APP.appId, privateKey, 1_800_000_000).split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).toEqual({
      iat: 1_800_000_000 - 60,
      exp: 1_800_000_000 + 540,
      iss: APP.appId,
    });
  });
});
