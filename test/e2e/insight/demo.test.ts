import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoraReport } from '../../../core/insight';
import { runDemo } from '../../../local/demo';
import { type Browser, HAS_CHROMIUM, launchBrowser, SKIP_REASON } from '../console/browser';

/**
 * The demo run shows up in delivery insight (issue 19): `stepline demo --keep --json` (in this process) runs the
 * sample service to staging and, once approved, production; while it keeps the runtime up, `stepline metrics dora`,
 * `/metrics` and the console's Delivery insight page each show one successful deploy to each environment, with the
 * lead time of the one commit it carried.
 */

const run = promisify(execFile);
const CLI = resolve(__dirname, '../../../local/cli.ts');
const TSX = resolve(__dirname, '../../../node_modules/.bin/tsx');

let url: string;
let summary: Record<string, unknown>;
let demo: Promise<number>;
const stop = new AbortController();

beforeAll(async () => {
  let written = '';
  let ready: (value: Record<string, unknown>) => void;
  const kept = new Promise<Record<string, unknown>>((r) => {
    ready = r;
  });
  demo = runDemo({
    keep: true,
    json: true,
    signal: stop.signal,
    output: {
      write: (text: string) => {
        written += text;
        const line = written.split('\n').find((l) => l.startsWith('{'));
        if (line) ready(JSON.parse(line) as Record<string, unknown>);
        return true;
      },
    },
    errors: { write: (text: string) => process.stderr.write(text) },
  });
  summary = await Promise.race([
    kept,
    demo.then((code) => {
      throw new Error(`the demo ended (${code}) before it kept the runtime up`);
    }),
  ]);
  url = summary['url'] as string;
}, 240_000);

afterAll(async () => {
  stop.abort();
  await demo;
});

describe('the demo run in delivery insight', () => {
  it('runs the demo to SUCCEEDED, the runtime kept up', () => {
    // Assess
    expect(summary['status']).toBe('SUCCEEDED');
  });

  it('shows up in stepline metrics dora', async () => {
    // Act
    const json = await run(TSX, [CLI, 'metrics', 'dora', '--url', url, '--json']);
    const text = await run(TSX, [CLI, 'metrics', 'dora', '--url', url]);
    const report = JSON.parse(json.stdout) as DoraReport;

    // Assess: one successful deploy each, carrying the demo's one commit
    expect(
      report.environments.map((e) => [e.environment, e.deploymentFrequency.succeeded, e.leadTime.changes]),
    ).toEqual([
      ['production', 1, 1],
      ['staging', 1, 1],
    ]);
    expect(report.environments.every((e) => e.repositories.includes('stepline-demo/hello-service'))).toBe(true);
    expect(text.stdout).toMatch(/^production\s+1\s+0\.03\/day, weekly\s+\d+s \/ \d+s\s+0% \(0 of 1\)\s+-\s/m);
    expect(text.stdout).toMatch(/^staging\s+1\s+0\.03\/day, weekly\s/m);
  }, 30_000);

  it('shows up on /metrics', async () => {
    // Act
    const metrics = await (await fetch(`${url}/metrics`)).text();

    // Assess
    for (const environment of ['staging', 'production']) {
      expect(metrics).toContain(`stepline_dora_deploys_succeeded{environment="${environment}"} 1\n`);
      expect(metrics).toContain(`stepline_dora_change_failure_rate{environment="${environment}"} 0\n`);
      expect(metrics).toMatch(
        new RegExp(`stepline_dora_lead_time_seconds\\{environment="${environment}",quantile="0.5"\\} \\d`),
      );
    }
  });

  it.skipIf(!HAS_CHROMIUM)(
    `shows up on the console's Delivery insight page${HAS_CHROMIUM ? '' : ` (${SKIP_REASON})`}`,
    async () => {
      // Prepare
      const browser: Browser = await launchBrowser();
      try {
        const page = await browser.context.newPage();

        // Act
        await page.goto(`${url}/insight`);
        await page.locator('[data-environment="production"] h2').waitFor();
        const sections = await page.locator('section.dora-env h2').allTextContents();
        const deploys = await page.locator('[data-key="Deployment frequency"] .detail').allTextContents();
        const bars = await page
          .locator('[data-environment="staging"] figure.plot', { hasText: 'Successful deploys per week' })
          .locator('.mark[data-value="1"]')
          .count();

        // Assess
        expect(sections).toEqual(['production', 'staging']);
        expect(deploys).toEqual(['1 successful deploy · weekly', '1 successful deploy · weekly']);
        expect(bars).toBe(1);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});
