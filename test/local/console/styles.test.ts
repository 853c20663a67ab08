import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleBundle } from '../../../local/console/bundle';

/**
 * The console's stylesheets (local/console/app/styles*.css): one file per part of the page, imported by `styles.css`
 * in cascade order and served as one stylesheet (`/ui/app.css`, the esbuild bundle). The narrow-screen rules come
 * last, so that they win over the rules they override at the same specificity; no file is over the 600-line limit.
 */

const APP = join(__dirname, '../../../local/console/app');

/** The files `styles.css` imports, in order. */
function imported(): string[] {
  const index = readFileSync(join(APP, 'styles.css'), 'utf8');
  return [...index.matchAll(/^@import "\.\/([^"]+)";$/gm)].map((m) => m[1] as string);
}

/** How a stylesheet's first rule opens, as esbuild's minified output writes it: `.a,.b{`, `@media(…){.a{`. */
function opening(file: string): string {
  const text = readFileSync(join(APP, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const m = /^\s*(@media[^{]+?\s*\{\s*)?([^{@]+?)\s*\{/.exec(text);
  return `${m?.[1]?.replace(/\s+/g, '') ?? ''}${(m?.[2] ?? '').replace(/,\s*/g, ',')}{`;
}

describe("the console's stylesheets", () => {
  it('imports every styles-*.css part once, each under 600 lines', () => {
    // Prepare
    const parts = readdirSync(APP).filter((f) => /^styles-.+\.css$/.test(f));

    // Act
    const order = imported();

    // Assess
    expect([...order].sort()).toEqual(parts.sort());
    expect(order.at(-1)).toBe('styles-responsive.css');
    for (const file of ['styles.css', ...parts, 'insight.css']) {
      expect(readFileSync(join(APP, file), 'utf8').split('\n').length, file).toBeLessThan(600);
    }
  });

  it('serves them as one stylesheet, in import order, the narrow-screen rules after every other part', async () => {
    // Act
    const { css } = await consoleBundle();
    const at = imported().map((file) => css.indexOf(opening(file)));

    // Assess: each part is there, after the one before it; no @import is left for the browser to fetch
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(css).not.toContain('@import');
    const narrow = css.indexOf('@media(max-width:980px)');
    expect(narrow).toBeGreaterThan(css.indexOf('.run-form{'));
    expect(narrow).toBeGreaterThan(css.indexOf('.grid-row.active{'));
  });
});
