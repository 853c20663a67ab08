import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm run demo -- --gitops` as README names it (ADR 0103): staging is handed to a stand-in Argo CD through a git
 * repository in the demo's state folder, and the run succeeds only once the Application is Synced and Healthy at
 * the commit Stepline made.
 */

const ROOT = resolve(__dirname, '../..');
// The environment of a fresh shell: no token, no KUBECONFIG, no AWS account.
const ENV = { PATH: process.env['PATH'], HOME: process.env['HOME'], LANG: 'C.UTF-8', TMPDIR: process.env['TMPDIR'] };

let outcome: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  outcome = await promisify(execFile)('npm', ['run', 'demo', '--', '--gitops'], {
    cwd: ROOT,
    env: ENV,
    timeout: 170_000,
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  );
}, 180_000);

describe('stepline demo --gitops', () => {
  it('exits 0: the run SUCCEEDED', () => {
    expect(outcome.stderr).not.toMatch(/Error/);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/result +SUCCEEDED/);
  });

  it('makes the configuration repository and the Application that follows it', () => {
    expect(outcome.stdout).toMatch(
      /gitops +configuration repository .*gitops\/hello-deploy\.git \(main, apps\/staging\)/,
    );
    expect(outcome.stdout).toContain('Argo CD Application argocd/hello-staging follows it');
  });

  it('waits for the Application at the commit and the rollout, then names the commit it made', () => {
    expect(outcome.stdout).toMatch(
      /staging +ok rolled out: Application "hello-staging" is Synced and Healthy at [0-9a-f]{12}; deployment "hello-service" successfully rolled out/,
    );
    const made = outcome.stdout.match(/gitops +([0-9a-f]{12}) on main set hello-service@sha256:[0-9a-f]{12}…/);
    expect(made).not.toBeNull();
    expect(outcome.stdout).toContain(`Synced and Healthy at ${made?.[1]}`);
    expect(outcome.stdout).toMatch(
      new RegExp(`staging +handed to GitOps: commit ${made?.[1]} on local:hello-deploy main`),
    );
    expect(outcome.stdout).toContain('stepline/deploy/staging success');
  });

  it("ends with what happened to staging: the configuration repository's commit and the controller's sync", () => {
    // Assess: the summary's environments field, not an applied revision (Stepline applied nothing itself)
    const made = outcome.stdout.match(/gitops +([0-9a-f]{12}) on main set hello-service@/)?.[1];
    const summary = outcome.stdout.slice(outcome.stdout.indexOf('\nSummary\n'));
    const line = summary.match(/^ {2}environments +(.+)$/m)?.[1];
    expect(line).toBe(
      `staging: handed to GitOps, commit ${made} to local:hello-deploy main (the configuration repository); ` +
        `Application "hello-staging" is Synced and Healthy at ${made}, deployment/hello-service 2/2 available`,
    );
    expect(summary).not.toMatch(/revision 0|0\/1 available/);
  });
});
