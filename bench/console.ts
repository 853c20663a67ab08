/**
 * The console's figures: the bundle's size, reading a 5,000-event history into statuses, and how long Debian's
 * Chromium takes to show an execution of 5,000+ events (graph, then the events table), beside a baseline: the
 * same events as a plain, non-virtualized table in the same page.
 *
 *   npm run bench:console        (needs /usr/bin/chromium)
 */
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { consoleBundle, createConsoleRoutes, engineConsoleSource, eventToJson } from '../local/console';
import { readHistory } from '../local/console/model/status';
import { Engine, type StateMachineDefinition } from '../local/engine';

/** The browser globals the page-side baseline uses (this file is type-checked without the DOM library). */
interface BaselineCell {
  textContent: string;
}
interface BaselineTable {
  insertRow(): { insertCell(): BaselineCell };
  getBoundingClientRect(): unknown;
}
declare const document: { createElement(tag: 'table'): BaselineTable; body: { append(node: BaselineTable): void } };
declare const requestAnimationFrame: (callback: () => void) => number;

const CHROMIUM = process.env['STEPLINE_CHROMIUM'] ?? '/usr/bin/chromium';
const RUNS = 5;
const ITEMS = 1300;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function row(name: string, value: string, note = ''): void {
  console.log(`${name.padEnd(52)} ${value.padStart(12)}  ${note}`);
}

async function main(): Promise<void> {
  const bundle = await consoleBundle();
  row(
    'bundle: app.js (minified)',
    `${(bundle.size.js / 1024).toFixed(1)} KiB`,
    `gzip ${(gzipSync(bundle.js).length / 1024).toFixed(1)} KiB`,
  );
  row(
    'bundle: app.css',
    `${(bundle.size.css / 1024).toFixed(1)} KiB`,
    `gzip ${(gzipSync(bundle.css).length / 1024).toFixed(1)} KiB`,
  );
  row('bundle: esbuild time at start', `${bundle.buildMs} ms`);

  const engine = new Engine({ clock: 'virtual' });
  const machine = 'arn:aws:states:us-east-1:123456789012:stateMachine:bench';
  const definition = {
    QueryLanguage: 'JSONata',
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        Items: `{% [1..${ITEMS}] %}`,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'Step',
          States: { Step: { Type: 'Pass', End: true } },
        },
        End: true,
      },
    },
  } as StateMachineDefinition;
  const result = await engine.start(definition, {}, { name: 'bench', stateMachineArn: machine }).done;
  const events = result.history.map(eventToJson);
  const reads: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    readHistory(events, result.status);
    reads.push(performance.now() - t);
  }
  row(`readHistory: ${events.length} events (node, median of 20)`, `${median(reads).toFixed(1)} ms`);

  if (!existsSync(CHROMIUM)) {
    console.log(`browser figures skipped: ${CHROMIUM} is absent`);
    return;
  }
  const handler = createConsoleRoutes(engineConsoleSource(engine, { definitions: { [machine]: definition } }));
  await handler.ready;
  const server = createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profile = mkdtempSync(join(tmpdir(), 'stepline-bench-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const toGraph: number[] = [];
  const toTable: number[] = [];
  const toEnd: number[] = [];
  const plain: number[] = [];
  let domRows = 0;
  try {
    for (let i = 0; i < RUNS; i++) {
      const page = await context.newPage();
      const start = Date.now();
      await page.goto(`${url}/executions/${result.executionArn}`);
      await page.locator('[data-state="Step"][data-status="succeeded"]').waitFor();
      toGraph.push(Date.now() - start);
      const tab = Date.now();
      await page.getByRole('tab', { name: /Events/ }).click();
      await page.getByText(`${events.length} events`).waitFor();
      await page.locator('.grid-row').first().waitFor();
      toTable.push(Date.now() - tab);
      domRows = await page.locator('.grid-row').count();
      await page.locator('.grid-body').focus();
      const end = Date.now();
      await page.keyboard.press('End');
      await page.locator('.grid-row.active', { hasText: 'ExecutionSucceeded' }).waitFor();
      toEnd.push(Date.now() - end);
      // Baseline: the same rows as one plain table, every row in the DOM, laid out before the next frame.
      plain.push(
        await page.evaluate(
          async (api) => {
            const res = await fetch(`${api}?after=0&limit=5000`);
            const page1 = (await res.json()) as { events: { id: number; type: string; timestamp: string }[] };
            const res2 = await fetch(`${api}?after=5000&limit=5000`);
            const page2 = (await res2.json()) as { events: { id: number; type: string; timestamp: string }[] };
            const all = [...page1.events, ...page2.events];
            const t = performance.now();
            const table = document.createElement('table');
            for (const e of all) {
              const tr = table.insertRow();
              for (const v of [e.id, e.type, '', '', e.timestamp]) tr.insertCell().textContent = String(v);
            }
            document.body.append(table);
            table.getBoundingClientRect();
            await new Promise((r) => requestAnimationFrame(() => r(null)));
            return performance.now() - t;
          },
          `/api/console/executions/${encodeURIComponent(result.executionArn)}/history`,
        ),
      );
      await page.close();
    }
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    handler.close();
    server.close();
  }
  console.log('');
  console.log(`Chromium, an execution of ${events.length} events (median of ${RUNS}):`);
  row(
    'open the page → graph drawn and coloured',
    `${median(toGraph)} ms`,
    'includes loading the history (pages of 5,000)',
  );
  row('Events tab → table shown', `${median(toTable)} ms`, `${domRows} rows in the DOM`);
  row('End key → last event active', `${median(toEnd)} ms`);
  row(
    'baseline: the same events as one plain table',
    `${median(plain).toFixed(0)} ms`,
    `${events.length} rows in the DOM`,
  );
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
