import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The decision records hold together: every ADR that the code or the docs cite exists, and every ADR is in the
 * index by area (`docs/adr/README.md`), so that a reader who follows a citation, or looks for the decisions of an
 * area, finds them.
 */

const ROOT = resolve(__dirname, '..', '..');
const ADR_DIR = join(ROOT, 'docs', 'adr');
const SKIPPED = new Set(['node_modules', 'cdk.out', '.git', '.ci', '.stepline', 'schema']);
const TEXT = /\.(ts|mts|mjs|cjs|js|md)$/;
const CITATION = /\b(?:ADRs?|adr)[ /-]?(0\d{3})\b|docs\/adr\/(\d{4})/g;

function textFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) textFiles(path, out);
    else if (TEXT.test(entry.name)) out.push(path);
  }
  return out;
}

/** The numbers of the records in docs/adr. */
function records(): Map<string, string> {
  const found = new Map<string, string>();
  for (const name of readdirSync(ADR_DIR)) {
    const match = /^(\d{4})-.+\.md$/.exec(name);
    if (match) found.set(match[1] as string, name);
  }
  return found;
}

/** Every ADR number cited, with the files that cite it. */
function citations(): Map<string, string[]> {
  const cited = new Map<string, string[]>();
  for (const file of textFiles(ROOT)) {
    for (const match of readFileSync(file, 'utf8').matchAll(CITATION)) {
      const number = (match[1] ?? match[2]) as string;
      const relative = file.slice(ROOT.length + 1);
      cited.set(number, [...new Set([...(cited.get(number) ?? []), relative])]);
    }
  }
  return cited;
}

describe('the architecture decision records', () => {
  it('include every record that the code and the docs cite', () => {
    // Prepare
    const existing = records();

    // Act
    const missing = [...citations()]
      .filter(([number]) => !existing.has(number))
      .map(([number, files]) => `ADR ${number}, cited by ${files.join(', ')}`);

    // Assess
    expect(missing).toEqual([]);
  });

  it('are each listed, with a link, in the index by area (docs/adr/README.md)', () => {
    // Prepare
    const index = readFileSync(join(ADR_DIR, 'README.md'), 'utf8');

    // Act
    const unlisted = [...records().values()].filter((file) => !index.includes(`](${file})`));

    // Assess
    expect(unlisted).toEqual([]);
  });
});
