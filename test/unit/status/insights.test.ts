import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpHostTransport } from '../../../adapters/githost/http';
import type { StatusEvent } from '../../../core/status/contracts';
import { ConsoleLinks } from '../../../core/status/links';
import { reportStatus } from '../../../core/status/report';
import { type FakeGitHost, startFakeGitHost } from '../../support/githost/fake-git-host';
import { EXECUTION_ARN, pipelineRequest, route, SHA } from '../../support/githost/fixtures';
import { allSpecFindings } from '../../support/githost/specs';

/**
 * Bitbucket Cloud's Code Insights (issue 17; ADR 0092): a suite that ends gets a TEST report on the commit, with
 * its failures as annotations, 100 per request as Bitbucket allows; the commit status stays.
 */

const links = new ConsoleLinks({ kind: 'local', baseUrl: 'http://127.0.0.1:8080' });
let host: FakeGitHost;

const transport = () =>
  new HttpHostTransport({
    provider: 'bitbucket',
    baseUrl: host.baseUrl('bitbucket'),
    credential: { scheme: 'basic', username: 'ci', password: 'app-password' },
    backoff: () => 0,
    sleep: async () => {},
  });

function event(overrides: Partial<StatusEvent>): StatusEvent {
  return {
    request: pipelineRequest('bitbucket'),
    route: route(),
    executionArn: EXECUTION_ARN,
    step: 'test',
    suite: 'unit',
    state: 'running',
    ...overrides,
  };
}

const failures = Array.from({ length: 120 }, (_, i) => ({
  path: 'app/orders.py',
  line: i + 1,
  message: `KeyError: 'total' (${i})`,
  title: `tests.test_orders.test_total_${i}`,
}));

beforeAll(async () => {
  host = await startFakeGitHost();
});
afterAll(async () => {
  await host.close();
});
beforeEach(() => host.reset());

describe("a suite's Code Insights report", () => {
  it('reports a failed suite with its failures as annotations on the files', async () => {
    // Act
    const result = await reportStatus(event({ state: 'failure', detail: { phase: 'BUILD', exitCode: 1, failures } }), {
      transport: transport(),
      links,
    });

    // Assess
    expect(result).toMatchObject({ failed: 0 });
    const stored = host.report('acme/shop', SHA, 'stepline-test-unit');
    expect(stored?.report).toMatchObject({
      title: 'Tests: unit',
      report_type: 'TEST',
      result: 'FAILED',
      details: 'suite unit failed in phase BUILD: exit 1',
      data: [{ title: 'Failed tests', type: 'NUMBER', value: 120 }],
    });
    expect(stored?.annotations).toHaveLength(120);
    expect(stored?.annotations[119]).toMatchObject({
      path: 'app/orders.py',
      line: 120,
      annotation_type: 'BUG',
      result: 'FAILED',
    });
    expect(host.latest('bitbucket', 'acme/shop', SHA).get('stepline/test/unit')?.state).toBe('FAILED');
    expect(allSpecFindings(host.requests)).toEqual([]);
  });

  it('reports a passed suite as PASSED, and nothing for a suite still running', async () => {
    // Act
    await reportStatus(event({ state: 'running' }), { transport: transport(), links });
    const running = host.report('acme/shop', SHA, 'stepline-test-unit');
    await reportStatus(event({ state: 'success' }), { transport: transport(), links });

    // Assess
    expect(running).toBeUndefined();
    expect(host.report('acme/shop', SHA, 'stepline-test-unit')?.report).toMatchObject({ result: 'PASSED' });
    expect(allSpecFindings(host.requests)).toEqual([]);
  });
});
