import type { GraphLayout, PlacedEdge, PlacedFrame, PlacedNode, Point } from './layout';

/**
 * Folds a tall layered layout into columns side by side, as a newspaper sets a long text (ADR 0107): the pipeline's
 * main path is some twenty ranks deep, about 1,400 px drawn top to bottom, taller than a screen, while it is a few
 * hundred pixels wide. The layout is cut between two top-level ranks (never through a state or a Map box), each
 * column is moved up beside the previous one, and a transition that crosses a cut is routed down out of its
 * column, along the bottom to the gutter before the next, up to the top and into its target. Pure: no DOM.
 */

export interface FoldOptions {
  /** Fold only a layout taller than this, into as few columns as bring it under it. */
  readonly maxHeight: number;
  /** At most this many columns. */
  readonly maxColumns: number;
  /** Space between two columns, where crossing transitions run. */
  readonly gutter: number;
  /** The drawn width of an edge's label (it is written from `labelAt`, leftwards when the edge turns left). */
  readonly labelWidth: (label: string) => number;
  /** How many lines an edge's label takes. */
  readonly labelLines: (label: string) => number;
}

const LINE_HEIGHT = 13;

export const DEFAULT_FOLD: FoldOptions = {
  maxHeight: 820,
  maxColumns: 4,
  gutter: 48,
  labelWidth: (label) => Math.min(label.length, 34) * 6.2,
  labelLines: (label) => Math.min(3, Math.ceil(label.length / 30)),
};

/** Where a route runs above the columns, and the room kept under their tops for it. */
const ROUTE_TOP = 8;
const TOP_ROOM = 14;
const ROUTE_BELOW = 14;

interface Block {
  readonly top: number;
  readonly bottom: number;
}

/** The y ranges the top-level states hold, merged: a cut may fall only between two of them. */
function blocksOf(nodes: readonly PlacedNode[]): Block[] {
  const spans = nodes
    .filter((n) => n.depth === 0)
    .map((n) => ({ top: n.y, bottom: n.y + n.height }))
    .sort((a, b) => a.top - b.top);
  const blocks: { top: number; bottom: number }[] = [];
  for (const s of spans) {
    const last = blocks.at(-1);
    if (last && s.top <= last.bottom) last.bottom = Math.max(last.bottom, s.bottom);
    else blocks.push({ ...s });
  }
  return blocks;
}

/** The blocks, greedily, into columns no taller than `limit` (a block taller than it gets a column alone). */
function pack(blocks: readonly Block[], limit: number): Block[][] {
  const columns: Block[][] = [];
  let current: Block[] = [];
  for (const b of blocks) {
    const first = current[0];
    if (first && b.bottom - first.top > limit) {
      columns.push(current);
      current = [];
    }
    current.push(b);
  }
  if (current.length) columns.push(current);
  return columns;
}

/** The cuts (y values between two blocks) that give the fewest columns under `maxHeight`, each as short as it can be. */
function cutsFor(blocks: readonly Block[], options: FoldOptions): number[] {
  const first = blocks[0];
  const last = blocks.at(-1);
  if (!first || !last) return [];
  const tallest = Math.max(...blocks.map((b) => b.bottom - b.top));
  for (let count = 2; count <= options.maxColumns; count++) {
    // The smallest column height for which `count` columns hold every block (bisection on the height).
    let lo = tallest;
    let hi = last.bottom - first.top;
    for (let i = 0; i < 40 && hi - lo > 0.5; i++) {
      const mid = (lo + hi) / 2;
      if (pack(blocks, mid).length <= count) hi = mid;
      else lo = mid;
    }
    const columns = pack(blocks, hi);
    // The drawing adds the room above the columns, below them for routes, and its margins.
    if (hi + first.top + TOP_ROOM + ROUTE_BELOW + 12 <= options.maxHeight || count === options.maxColumns) {
      return columns.slice(1).map((c, i) => {
        const above = columns[i]?.at(-1) as Block;
        return ((above.bottom + (c[0] as Block).top) / 2) as number;
      });
    }
  }
  return [];
}

/** Where an edge's label is written (estimated), or null when it has none drawn. */
interface Box {
  readonly x1: number;
  readonly x2: number;
  readonly y1: number;
  readonly y2: number;
}

function labelBox(e: PlacedEdge, options: FoldOptions): Box | null {
  if (!e.label || !e.labelAt || e.label === 'States.ALL') return null;
  const w = options.labelWidth(e.label) + 8;
  const [a, b] = e.points;
  const left = !e.back && !!a && !!b && b.x < a.x - 2;
  const x1 = left ? e.labelAt.x - w : e.labelAt.x;
  return { x1, x2: x1 + w, y1: e.labelAt.y - 10, y2: e.labelAt.y - 10 + options.labelLines(e.label) * LINE_HEIGHT };
}

/**
 * Moves down a label written over another one (two rules of one Choice leave its bottom at the same point, so their
 * conditions start at the same place), below it.
 */
export function separateLabels(layout: GraphLayout, options: FoldOptions = DEFAULT_FOLD): GraphLayout {
  const placed: Box[] = [];
  const edges = layout.edges.map((e) => {
    const first = labelBox(e, options);
    if (!first || !e.labelAt) return e;
    let box: Box = first;
    let dy = 0;
    for (let moved = true; moved; ) {
      moved = false;
      for (const o of placed) {
        if (box.x1 < o.x2 && o.x1 < box.x2 && box.y1 < o.y2 && o.y1 < box.y2) {
          const by = o.y2 - box.y1 + 2;
          dy += by;
          box = { ...box, y1: box.y1 + by, y2: box.y2 + by };
          moved = true;
        }
      }
    }
    placed.push(box);
    return dy === 0 ? e : { ...e, labelAt: { x: e.labelAt.x, y: e.labelAt.y + dy } };
  });
  return { ...layout, edges };
}

/** Folds `layout` into columns when it is taller than `options.maxHeight`; otherwise answers it as it is. */
export function foldLayout(layout: GraphLayout, options: FoldOptions = DEFAULT_FOLD): GraphLayout {
  if (layout.height <= options.maxHeight) return layout;
  const cuts = cutsFor(blocksOf(layout.nodes), options);
  if (cuts.length === 0) return layout;
  const columnOf = (y: number): number => cuts.filter((c) => y >= c).length;
  const count = cuts.length + 1;

  // Each column's extent in the layout as it is: its states, frames, edge points and labels.
  const top = Math.min(...layout.nodes.map((n) => n.y));
  const ext = Array.from({ length: count }, () => ({
    minX: Infinity,
    maxX: -Infinity,
    minY: Infinity,
    maxY: -Infinity,
  }));
  const grow = (column: number, x1: number, x2: number, y1: number, y2: number): void => {
    const e = ext[column];
    if (!e) return;
    e.minX = Math.min(e.minX, x1);
    e.maxX = Math.max(e.maxX, x2);
    e.minY = Math.min(e.minY, y1);
    e.maxY = Math.max(e.maxY, y2);
  };
  for (const n of layout.nodes) grow(columnOf(n.y), n.x, n.x + n.width, n.y, n.y + n.height);
  // A transition that crosses columns keeps its points in its source's column and in its target's: the ones in
  // between would run down every column it passes.
  const kept = layout.edges.map((e) => {
    const from = columnOf((e.points[0] as Point).y);
    const to = columnOf((e.points.at(-1) as Point).y);
    return e.points.filter((p) => columnOf(p.y) === from || columnOf(p.y) === to);
  });
  layout.edges.forEach((e, i) => {
    for (const p of kept[i] as Point[]) grow(columnOf(p.y), p.x, p.x, p.y, p.y);
    const box = labelBox(e, options);
    // A label is written by its source: it goes with the source's column, even where it reaches past the cut.
    if (box) grow(columnOf((e.points[0] as Point).y), box.x1, box.x2, box.y1, box.y2);
  });
  // Column k moves right past the ones before it and up to the first column's top (with room above for routes).
  const dx: number[] = [];
  const dy: number[] = [];
  let x = 0;
  for (let k = 0; k < count; k++) {
    const e = ext[k] as (typeof ext)[number];
    dx.push(k === 0 ? 0 : x - e.minX + options.gutter);
    x = e.maxX + (dx[k] as number);
    const first = Math.min(...layout.nodes.filter((n) => n.depth === 0 && columnOf(n.y) === k).map((n) => n.y));
    dy.push(top + TOP_ROOM - first);
  }
  const move = (p: Point, k = columnOf(p.y)): Point => {
    return { x: p.x + (dx[k] as number), y: p.y + (dy[k] as number) };
  };
  const bottomOf = (k: number): number => (ext[k]?.maxY ?? 0) + (dy[k] as number) + ROUTE_BELOW;
  const gutterBefore = (k: number): number => (ext[k]?.minX ?? 0) + (dx[k] as number) - options.gutter / 2;

  const nodes: PlacedNode[] = layout.nodes.map((n) => ({ ...n, ...move(n) }));
  const frames: PlacedFrame[] = layout.frames.map((f) => ({ ...f, ...move(f) }));
  const edges: PlacedEdge[] = layout.edges.map((e, n) => {
    const points: Point[] = [];
    const own = kept[n] as Point[];
    own.forEach((p, i) => {
      const q = move(p);
      const prev = own[i - 1];
      if (prev && columnOf(prev.y) !== columnOf(p.y)) {
        // Down out of the source's column, along its bottom to a gutter, up above the columns, into the target.
        const from = columnOf(prev.y);
        const to = columnOf(p.y);
        const was = points.at(-1) as Point;
        const below = bottomOf(from);
        const gx = gutterBefore(Math.max(to, from));
        points.push({ x: was.x, y: below }, { x: gx, y: below }, { x: gx, y: ROUTE_TOP }, { x: q.x, y: ROUTE_TOP });
      }
      points.push(q);
    });
    const source = columnOf((e.points[0] as Point).y);
    return { ...e, points, ...(e.labelAt ? { labelAt: move(e.labelAt, source) } : {}) };
  });
  const height = Math.max(...Array.from({ length: count }, (_, k) => bottomOf(k))) + 12;
  return { width: Math.ceil(x), height: Math.ceil(height), nodes, frames, edges };
}
