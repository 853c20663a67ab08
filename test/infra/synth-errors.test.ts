import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm run synth` with a configuration the app refuses: the CDK CLI runs `tsx infra/bin/app.ts` with the context in
 * CDK_CONTEXT_JSON, as here. The message is printed alone, with no stack trace, and the app exits 1.
 */

const ROOT = resolve(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const dir = mkdtempSync(join(tmpdir(), 'stepline-synth-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function synth(config: string): Promise<{ code: number; stderr: string }> {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, config);
  const env = { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ config: file }), CDK_OUTDIR: join(dir, 'out') };
  return promisify(execFile)(TSX, [join(ROOT, 'infra/bin/app.ts')], { cwd: ROOT, env }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code?: number; stderr?: string }) => ({ code: e.code ?? -1, stderr: e.stderr ?? '' }),
  );
}

describe('the CDK app with a configuration it refuses', () => {
  it('prints the field and the reason alone, without a stack trace, and exits 1', async () => {
    // Act
    const outcome = await synth(
      JSON.stringify({ version: 1, repositories: [{ provider: 'github', name: 'acme/shop' }], extra: 1 }),
    );

    // Assess
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/^invalid Stepline configuration in \S+config-\w+\.json:\n {2}\S/);
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
    expect(outcome.stderr).not.toContain('ConfigError');
  }, 30_000);

  it('names the line and column of a file that is not JSON', async () => {
    // Act
    const outcome = await synth('{\n  "version": 1\n  "repositories": []\n}\n');

    // Assess
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.split('\n')[0]).toMatch(
      /: not JSON at line 3, column 3: expected ',' or '}' after property value$/,
    );
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
  }, 30_000);
});
