import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FOLD, foldLayout, separateLabels } from '../../../local/console/model/fold';
import { graphOf, withoutCatches } from '../../../local/console/model/graph';
import { type GraphLayout, layoutGraph, type PlacedNode, type Point } from '../../../local/console/model/layout';

/**
 * The compact graph folded into columns (ADR 0107), on the real pipeline definition: shorter than a screen, every
 * state kept, no two states over each other, every transition still from its source's border to its target's.
 */

const definition = JSON.parse(readFileSync(resolve(__dirname, '../../../statemachines/pipeline.asl.json'), 'utf8'));
const SPACING = { nodeHeight: 40, rankGap: 28, header: 28, padding: 12 } as const;

function compact(): GraphLayout {
  return layoutGraph(
    withoutCatches(graphOf(definition), () => false),
    SPACING,
  );
}

const touches = (p: Point, n: PlacedNode): boolean =>
  p.x >= n.x - 1 && p.x <= n.x + n.width + 1 && p.y >= n.y - 1 && p.y <= n.y + n.height + 1;

const overlap = (a: PlacedNode, b: PlacedNode): boolean =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('folding the compact graph', () => {
  it('brings the pipeline under the fold height, with every state kept', () => {
    // Prepare
    const tall = compact();

    // Act
    const folded = foldLayout(separateLabels(tall));

    // Assess
    expect(tall.height).toBeGreaterThan(1200);
    expect(folded.height).toBeLessThanOrEqual(DEFAULT_FOLD.maxHeight);
    expect(folded.nodes.map((n) => n.id).sort()).toEqual(tall.nodes.map((n) => n.id).sort());
    expect(folded.edges).toHaveLength(tall.edges.length);
  });

  it('puts no state over another, and keeps every state and every point inside the drawing', () => {
    // Act
    const folded = foldLayout(separateLabels(compact()));

    // Assess
    const top = folded.nodes.filter((n) => n.depth === 0);
    const overlapping = top.flatMap((a, i) =>
      top
        .slice(i + 1)
        .filter((b) => overlap(a, b))
        .map((b) => `${a.id}/${b.id}`),
    );
    expect(overlapping).toEqual([]);
    const outside = [
      ...folded.nodes.filter(
        (n) => n.x < 0 || n.y < 0 || n.x + n.width > folded.width || n.y + n.height > folded.height,
      ),
      ...folded.edges.flatMap((e) =>
        e.points.filter((p) => p.x < 0 || p.y < 0 || p.x > folded.width || p.y > folded.height),
      ),
    ];
    expect(outside).toEqual([]);
  });

  it('draws every transition from its source to its target, those across columns too', () => {
    // Act
    const folded = foldLayout(separateLabels(compact()));

    // Assess
    const byId = new Map(folded.nodes.map((n) => [n.id, n]));
    const broken = folded.edges.filter((e) => {
      const from = byId.get(e.from);
      const to = byId.get(e.to);
      const first = e.points[0];
      const last = e.points.at(-1);
      return !from || !to || !first || !last || !touches(first, from) || !touches(last, to);
    });
    expect(broken.map((e) => `${e.from}->${e.to}`)).toEqual([]);
  });

  it('leaves a layout that is short enough as it is', () => {
    // Prepare
    const short = layoutGraph(graphOf({ StartAt: 'A', States: { A: { Type: 'Pass', End: true } } }), SPACING);

    // Act, Assess
    expect(foldLayout(short)).toBe(short);
  });

  it('writes two labels that would start at one place one under the other', () => {
    // Act
    const layout = separateLabels(compact());

    // Assess: the two rules of ImageGiven leave from one point; their conditions no longer start at one place.
    const labels = layout.edges.filter(
      (e) => e.from.endsWith('ImageGiven') && e.kind === 'choice' && e.label && e.labelAt,
    );
    const ys = labels.map((e) => Math.round(e.labelAt?.y ?? 0));
    expect(labels.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ys).size).toBe(ys.length);
  });
});
