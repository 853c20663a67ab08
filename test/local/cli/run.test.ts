import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ExecutionInput } from '../../../core/intake/types';
import { main } from '../../../local/cli';
import type { Runtime } from '../../../local/runtime';
import { ENVIRONMENTS, REPOSITORY, sampleFiles } from '../runtime/sample';
import { gitRepository, pipelineConfig, removeDir, startTestRuntime, waitFor } from '../runtime/support';

/**
 * `stepline run` and `stepline rerun` against the real local runtime: a run started by hand for a branch of a real
 * git repository takes the same route and posts the same statuses as a push; it refuses an environment its branch
 * does not promote to; a re-run starts a new execution for the same commit; a build whose `git clone` fails says
 * why in `executions show`; and `--aws` prints a `start-execution` command that Debian's awscli sends as printed.
 */

const exec = promisify(execFile);

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('stepline run and rerun', () => {
  let runtime: Runtime;
  let repo: ReturnType<typeof gitRepository>;
  let configFile: string;
  const config = pipelineConfig({
    repository: REPOSITORY,
    environments: { ...ENVIRONMENTS, production: { ...ENVIRONMENTS.staging, namespace: 'hello-production' } },
    branchEnvironments: ['staging'],
  });

  async function cli(...args: string[]): Promise<Outcome> {
    let stdout = '';
    let stderr = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      stdout += String(chunk);
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    try {
      const code = await main([...args, '--url', runtime.url]);
      return { code, stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  const ended = (name: string) =>
    waitFor(
      `${name} to end`,
      () => {
        const record = runtime.stores.executions.getExecution(
          `${runtime.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
        );
        return record && record.status !== 'RUNNING' ? record : undefined;
      },
      60_000,
    );

  beforeAll(async () => {
    repo = gitRepository(sampleFiles());
    runtime = await startTestRuntime({ config: config as never, identity: 'carol' });
    configFile = `${runtime.stateDir}/config.json`;
    (await import('node:fs')).writeFileSync(configFile, JSON.stringify(config));
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
    if (runtime) removeDir(runtime.stateDir);
    if (repo) removeDir(repo.dir);
  });

  it('starts a run for a branch, routed and reported as a push of it, as the local identity', async () => {
    // Act
    const started = await cli('run', REPOSITORY, 'main', '--clone-url', repo.dir);
    const name = /^started: (\S+)$/m.exec(started.stdout)?.[1] as string;
    const record = await ended(name);

    // Assess
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect(name).toMatch(new RegExp(`^acme-hello-${repo.sha.slice(0, 7)}-manual-[0-9a-f]{8}$`));
    expect(started.stdout).toContain(`  console  ${runtime.url}/executions/`);
    expect(record.status, `${record.error}: ${record.cause}`).toBe('SUCCEEDED');
    const input = JSON.parse(record.input) as ExecutionInput;
    expect(input.request).toMatchObject({
      event: 'manual',
      ref: { name: 'main', kind: 'branch', fullName: 'refs/heads/main' },
      commit: { sha: repo.sha, message: 'first' },
      sender: { login: 'carol' },
    });
    expect(input.route.environments.map((e) => e.name)).toEqual(['staging']);
    const latest = runtime.stores.statuses.latest('github', REPOSITORY, repo.sha);
    expect(Object.fromEntries(latest.map((s) => [s.context, s.state]))).toEqual({
      stepline: 'success',
      'stepline/build': 'success',
      'stepline/deploy/staging': 'success',
    });
  }, 90_000);

  it('refuses an environment the branch does not promote to, and says which it does', async () => {
    // Act
    const refused = await cli('run', REPOSITORY, 'main', '--environments', 'production');

    // Assess
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: 'stepline: production: branch main promotes to staging only\n',
    });
  });

  it("starts runs only as the runtime's identity, and only from JSON", async () => {
    // Act
    const someoneElse = await cli('run', REPOSITORY, 'main', '--as', 'mallory');
    const form = await fetch(`${runtime.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ repository: REPOSITORY, ref: 'main' }),
    });

    // Assess
    expect(someoneElse).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "stepline: this runtime starts runs as carol, not mallory: start it with --as mallory, or change the identity in the console's header\n",
    });
    expect(form.status).toBe(415);
  });

  it('starts a finished run again for the same commit, as a new execution', async () => {
    // Prepare
    const first = runtime.stores.executions.listExecutions({}, 10).items.find((e) => e.name.includes('-manual-'));

    // Act
    const again = await cli('rerun', first?.name as string, '--json');
    const body = JSON.parse(again.stdout) as { status: string; name: string; executionArn: string };
    const record = runtime.stores.executions.getExecution(body.executionArn);
    if (record?.status === 'RUNNING') runtime.states.stopExecution({ executionArn: body.executionArn });

    // Assess
    expect(again.code).toBe(0);
    expect(body.status).toBe('started');
    expect(body.name).toMatch(new RegExp(`^acme-hello-${repo.sha.slice(0, 7)}-rerun-[0-9a-f]{8}$`));
    const input = JSON.parse(record?.input ?? '{}') as ExecutionInput;
    expect(input.request).toMatchObject({
      commit: { sha: repo.sha },
      ref: { name: 'main' },
      sender: { login: 'carol' },
    });
    expect(input.route.environments.map((e) => e.name)).toEqual(['staging']);
  }, 90_000);

  it('says why a build whose git clone failed failed, in executions show', async () => {
    // Prepare
    const sha = 'f'.repeat(40);
    const started = await cli('run', REPOSITORY, 'main', '--sha', sha, '--clone-url', '/nowhere/hello.git');
    const name = /^started: (\S+)$/m.exec(started.stdout)?.[1] as string;
    await ended(name);

    // Act
    const shown = await cli('executions', 'show', name);

    // Assess
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^ {2}error {6}Stepline\.BuildFailed at build$/m);
    expect(shown.stdout).toMatch(
      /^ {2}reason {5}DOWNLOAD_SOURCE: could not clone \/nowhere\/hello\.git: fatal: repository '\/nowhere\/hello\.git' does not exist$/m,
    );
    expect(shown.stdout).not.toContain('"reason":""');
  }, 90_000);

  it('prints the aws stepfunctions start-execution command of a run, which awscli sends as printed', async () => {
    // Prepare
    const printed = await cli('run', REPOSITORY, 'main', '--sha', repo.sha, '--aws', '--config', configFile);
    const command = printed.stdout.trim();
    // `aws` stands in for the stack's CLI: the stack's output is the local state machine, the endpoint the runtime's.
    const shell = `aws() { if [ "$1" = cloudformation ]; then echo '${runtime.stateMachineArn}'; else /usr/bin/aws --endpoint-url ${runtime.url} --output json "$@"; fi; }; ${command}`;

    // Act
    const sent = await exec('bash', ['-c', shell], {
      env: {
        PATH: process.env['PATH'],
        HOME: process.env['HOME'],
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
    });
    const arn = (JSON.parse(sent.stdout) as { executionArn: string }).executionArn;
    const record = runtime.stores.executions.getExecution(arn);
    if (record?.status === 'RUNNING') runtime.states.stopExecution({ executionArn: arn });

    // Assess
    expect(printed.code).toBe(0);
    expect(command).toMatch(/^aws stepfunctions start-execution --state-machine-arn "\$\(aws cloudformation /);
    const input = JSON.parse(record?.input ?? '{}') as ExecutionInput;
    expect(input.request).toMatchObject({ event: 'manual', commit: { sha: repo.sha }, ref: { name: 'main' } });
    expect(input.request.repository.cloneUrl).toBe('https://github.com/acme/hello.git');
    expect(input.route.environments.map((e) => e.name)).toEqual(['staging']);
  }, 90_000);
});
