import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../../..');

describe('the stepline CLI', () => {
  it('ends quietly with 0 when the reader of its output goes away (stepline … | head)', async () => {
    // Prepare: the CLI's stdout is a pipe whose reading end closes before the CLI writes.
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'local/cli.ts'), '--help'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });

    // Act
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    // Assess
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  }, 60_000);
});
