import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../../core/config';
import { commitChange, prepareRepository, readConfig, type SampleRepository } from '../../../local/demo';
import { githubPush, githubSignature } from '../../../local/demo/webhook';

/**
 * The demo's sample service repository, as `stepline demo` writes it: a committed git repository whose own tests
 * pass, whose manifests render for every environment, and whose configuration is valid; and the signed push that
 * describes a commit of it.
 */

const run = promisify(execFile);
let root: string;
let repository: SampleRepository;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'stepline-sample-'));
  repository = await prepareRepository(join(root, 'hello-service'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('the sample repository', () => {
  it('is a git repository with one commit on main that adds every file', async () => {
    // Act
    const { stdout } = await run('git', ['log', '--format=%H %s'], { cwd: repository.dir });
    // Assess
    expect(stdout.trim()).toBe(`${repository.head} Add hello-service`);
    expect(repository).toMatchObject({ branch: 'main', before: null, changes: { modified: [], removed: [] } });
    expect(repository.changes.added).toEqual(
      expect.arrayContaining(['buildspec.yml', 'src/app.js', 'stepline.config.json']),
    );
  });

  it("passes its own tests with node's test runner", async () => {
    // Act
    const { stdout } = await run(process.execPath, ['--test', 'test/unit/app.test.js', 'test/http/server.test.js'], {
      cwd: repository.dir,
    });
    // Assess
    expect(stdout).toMatch(/# fail 0/);
    expect(stdout).toMatch(/# pass [1-9]\d*/);
  });

  it('renders the manifests of every environment with nothing left to fill', async () => {
    // Prepare
    const out = join(root, 'rendered');
    // Act
    await run(process.execPath, ['scripts/render-manifests.js', out], { cwd: repository.dir });
    // Assess
    const environments = JSON.parse(readFileSync(join(repository.dir, 'deploy/environments.json'), 'utf8'));
    for (const [name, values] of Object.entries(
      environments as Record<string, { namespace: string; replicas: number }>,
    )) {
      const files = readdirSync(join(out, name)).sort();
      expect(files).toEqual(['configmap.yaml', 'deployment.yaml', 'namespace.yaml', 'service.yaml']);
      const texts = files.map((f) => readFileSync(join(out, name, f), 'utf8'));
      expect(texts.join('')).not.toContain('${');
      const deployment = parseYaml(texts[1] as string) as {
        metadata: { namespace: string };
        spec: { replicas: number };
      };
      expect(deployment.metadata.namespace).toBe(values.namespace);
      expect(deployment.spec.replicas).toBe(values.replicas);
    }
  });

  it('carries a valid configuration whose environments match the rendered manifests', () => {
    // Act
    const config = parseConfig(readConfig(repository), 'stepline.config.json');
    // Assess
    const [service] = config.repositories;
    expect(service?.name).toBe(repository.name);
    expect(Object.keys(service?.environments ?? {})).toEqual(['staging', 'production']);
    expect(service?.environments['production']?.approval?.approvers).toEqual(['release-manager']);
  });
});

describe('commitChange and githubPush', () => {
  it('describe a later commit by what it changed, and sign the push as GitHub does', async () => {
    // Act
    const next = await commitChange(repository, { 'README.md': '# changed\n' }, 'Docs');
    const delivery = githubPush(next, 'the-secret');
    // Assess
    const payload = JSON.parse(delivery.body) as Record<string, unknown>;
    expect(next).toMatchObject({
      before: repository.head,
      changes: { added: [], modified: ['README.md'], removed: [] },
    });
    expect(payload).toMatchObject({
      before: repository.head,
      after: next.head,
      created: false,
      ref: 'refs/heads/main',
    });
    expect(delivery.headers['x-hub-signature-256']).toBe(githubSignature(delivery.body, 'the-secret'));
    expect(delivery.headers['x-hub-signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('--break commits a change that breaks the step it names', async () => {
    // Act
    const broken = await prepareRepository(join(root, 'broken'), 'build');
    // Assess
    expect(broken.changes.modified).toEqual(['src/server.js']);
    await expect(run(process.execPath, ['--check', 'src/server.js'], { cwd: broken.dir })).rejects.toThrow(
      /SyntaxError/,
    );
  });
});
