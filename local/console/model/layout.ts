import type { EdgeKind, GraphNode, GraphScope } from './graph';

/**
 * A layered ("Sugiyama") layout of a workflow graph, written for the shapes ASL makes: top to bottom, one rank per
 * step of the longest path from the start; transitions that go back (retry loops such as Wait → Check → Wait)
 * are drawn up the right-hand side instead of being allowed to bend the ranks; long transitions (a Catch from
 * every step to the failure report) pass through virtual nodes so they run between the states, not across them;
 * the order inside a rank comes from barycenter sweeps that keep the fewest crossings found; a Map or Parallel
 * state is a box that holds the layout of its item processor or of its branches side by side.
 *
 * Pure: no DOM. Sizes are in CSS pixels; text widths are estimated from the character count.
 */

export interface LayoutOptions {
  /** Height of a state. */
  readonly nodeHeight: number;
  /** Vertical space between ranks. */
  readonly rankGap: number;
  /** Horizontal space between states of one rank. */
  readonly nodeGap: number;
  /** Estimated width of one character of a state's name. */
  readonly charWidth: number;
  readonly minNodeWidth: number;
  readonly maxNodeWidth: number;
  /** Space between a Map/Parallel box's border and what it holds. */
  readonly padding: number;
  /** Height of a Map/Parallel box's title. */
  readonly header: number;
}

export const DEFAULT_LAYOUT: LayoutOptions = {
  nodeHeight: 44,
  rankGap: 42,
  nodeGap: 26,
  charWidth: 7.4,
  minNodeWidth: 120,
  maxNodeWidth: 250,
  padding: 14,
  header: 30,
};

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** A placed state (or marker), in absolute coordinates. */
export interface PlacedNode {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly resource?: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** How many Map/Parallel boxes it sits in. */
  readonly depth: number;
  /** Whether it holds other states (Map, Parallel). */
  readonly compound: boolean;
}

/** The frame of one Parallel branch or one Map item processor. */
export interface PlacedFrame {
  readonly id: string;
  readonly owner: string;
  readonly label: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface PlacedEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  readonly label?: string;
  /** From the source's border to the target's border. */
  readonly points: readonly Point[];
  /** Drawn up the right-hand side: it goes back to an earlier rank (or to itself). */
  readonly back: boolean;
  /** Where to write the label. */
  readonly labelAt?: Point;
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  /** Compound states first (they are drawn beneath what they hold). */
  readonly nodes: readonly PlacedNode[];
  readonly frames: readonly PlacedFrame[];
  readonly edges: readonly PlacedEdge[];
}

interface LNode {
  readonly id: string;
  readonly node: GraphNode | null;
  readonly width: number;
  readonly height: number;
  readonly inner: ScopeLayout[];
  rank: number;
  order: number;
  x: number;
  y: number;
}

interface Segment {
  readonly from: LNode;
  readonly to: LNode;
}

interface ScopeLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: PlacedNode[];
  readonly frames: PlacedFrame[];
  readonly edges: PlacedEdge[];
}

const MARKER_WIDTH = 64;
const MARKER_HEIGHT = 28;
const DUMMY_GAP = 10;
const BACK_EDGE_GAP = 14;

function nodeWidth(node: GraphNode, o: LayoutOptions): number {
  if (node.type === 'Start' || node.type === 'End') return MARKER_WIDTH;
  const longest = Math.max(node.name.length, (node.resource ?? node.type).length * 0.85);
  return Math.round(Math.min(o.maxNodeWidth, Math.max(o.minNodeWidth, longest * o.charWidth + 32)));
}

function shift(layout: ScopeLayout, dx: number, dy: number, depth: number): ScopeLayout {
  return {
    width: layout.width,
    height: layout.height,
    nodes: layout.nodes.map((n) => ({ ...n, x: n.x + dx, y: n.y + dy, depth: n.depth + depth })),
    frames: layout.frames.map((f) => ({ ...f, x: f.x + dx, y: f.y + dy })),
    edges: layout.edges.map((e) => ({
      ...e,
      points: e.points.map((p) => ({ x: p.x + dx, y: p.y + dy })),
      ...(e.labelAt ? { labelAt: { x: e.labelAt.x + dx, y: e.labelAt.y + dy } } : {}),
    })),
  };
}

/** Crossings between two adjacent ranks, given the segments between them. */
function crossings(segments: readonly Segment[]): number {
  let count = 0;
  for (let i = 0; i < segments.length; i++) {
    const a = segments[i] as Segment;
    for (let j = i + 1; j < segments.length; j++) {
      const b = segments[j] as Segment;
      if ((a.from.order - b.from.order) * (a.to.order - b.to.order) < 0) count++;
    }
  }
  return count;
}

// size-exception(function): the numbered passes of one scope's layout (sizes, layers, order, coordinates, edges) over
// shared local state; splitting it is left to the console's owners (issue 13)
function layoutScope(scope: GraphScope, o: LayoutOptions, margin: number): ScopeLayout {
  // 1. Sizes, laying out what Map and Parallel states hold first.
  const lnodes = new Map<string, LNode>();
  const order: LNode[] = [];
  for (const node of scope.nodes) {
    const inner = (node.scopes ?? []).map((s) => layoutScope(s, o, node.type === 'Parallel' ? 12 : 0));
    let width = nodeWidth(node, o);
    let height = node.type === 'Start' || node.type === 'End' ? MARKER_HEIGHT : o.nodeHeight;
    if (inner.length > 0) {
      const content = inner.reduce((w, l) => w + l.width, 0) + (inner.length - 1) * o.nodeGap;
      width = Math.max(width, content + 2 * o.padding);
      height = o.header + Math.max(...inner.map((l) => l.height)) + o.padding;
    }
    const l: LNode = { id: node.id, node, width, height, inner, rank: 0, order: 0, x: 0, y: 0 };
    lnodes.set(node.id, l);
    order.push(l);
  }
  const edges = scope.edges.filter((e) => lnodes.has(e.from) && lnodes.has(e.to));

  // 2. Back edges: those that close a cycle in a depth-first walk from the start (definition order otherwise).
  const out = new Map<string, typeof edges>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  const state = new Map<string, 'open' | 'done'>();
  const back = new Set<(typeof edges)[number]>();
  const discovery: LNode[] = [];
  const visit = (id: string): void => {
    const stack: { id: string; next: number }[] = [{ id, next: 0 }];
    state.set(id, 'open');
    discovery.push(lnodes.get(id) as LNode);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { id: string; next: number };
      const list = out.get(top.id) ?? [];
      if (top.next >= list.length) {
        state.set(top.id, 'done');
        stack.pop();
        continue;
      }
      const e = list[top.next++] as (typeof edges)[number];
      const s = state.get(e.to);
      if (s === 'open') back.add(e);
      else if (s === undefined) {
        state.set(e.to, 'open');
        discovery.push(lnodes.get(e.to) as LNode);
        stack.push({ id: e.to, next: 0 });
      }
    }
  };
  if (lnodes.has(scope.start)) visit(scope.start);
  for (const l of order) if (!state.has(l.id)) visit(l.id);
  const forward = edges.filter((e) => !back.has(e) && e.from !== e.to);

  // 3. Ranks: the longest path from the start over the forward edges.
  const indegree = new Map<string, number>(order.map((l) => [l.id, 0]));
  for (const e of forward) indegree.set(e.to, (indegree.get(e.to) ?? 0) + 1);
  const queue = discovery.filter((l) => indegree.get(l.id) === 0);
  while (queue.length > 0) {
    const l = queue.shift() as LNode;
    for (const e of out.get(l.id) ?? []) {
      if (back.has(e) || e.from === e.to) continue;
      const t = lnodes.get(e.to) as LNode;
      t.rank = Math.max(t.rank, l.rank + 1);
      const left = (indegree.get(t.id) ?? 0) - 1;
      indegree.set(t.id, left);
      if (left === 0) queue.push(t);
    }
  }
  const maxRank = Math.max(0, ...order.map((l) => l.rank));

  // 4. Virtual nodes on long edges; layers in discovery order.
  const layers: LNode[][] = Array.from({ length: maxRank + 1 }, () => []);
  for (const l of discovery) layers[l.rank]?.push(l);
  const segments: Segment[][] = Array.from({ length: maxRank }, () => []);
  const chains = new Map<(typeof edges)[number], LNode[]>();
  for (const e of forward) {
    const from = lnodes.get(e.from) as LNode;
    const to = lnodes.get(e.to) as LNode;
    const chain: LNode[] = [from];
    for (let r = from.rank + 1; r < to.rank; r++) {
      const dummy: LNode = {
        id: `${e.from}->${e.to}@${r}`,
        node: null,
        width: 0,
        height: 0,
        inner: [],
        rank: r,
        order: 0,
        x: 0,
        y: 0,
      };
      layers[r]?.push(dummy);
      chain.push(dummy);
    }
    chain.push(to);
    chains.set(e, chain);
    for (let i = 0; i + 1 < chain.length; i++) {
      const a = chain[i] as LNode;
      segments[a.rank]?.push({ from: a, to: chain[i + 1] as LNode });
    }
  }

  // 5. Order inside ranks: barycenter sweeps, keeping the order with the fewest crossings.
  const number = (): void => {
    for (const layer of layers)
      layer.forEach((l, i) => {
        l.order = i;
      });
  };
  number();
  const preds = new Map<LNode, LNode[]>();
  const succs = new Map<LNode, LNode[]>();
  for (const list of segments)
    for (const s of list) {
      preds.set(s.to, [...(preds.get(s.to) ?? []), s.from]);
      succs.set(s.from, [...(succs.get(s.from) ?? []), s.to]);
    }
  const total = (): number => segments.reduce((n, list) => n + crossings(list), 0);
  let best = layers.map((layer) => layer.slice());
  let bestCount = total();
  const sortBy = (layer: LNode[], neighbours: Map<LNode, LNode[]>): void => {
    const keys = new Map<LNode, number>();
    for (const l of layer) {
      const n = neighbours.get(l);
      keys.set(l, n && n.length > 0 ? n.reduce((s, m) => s + m.order, 0) / n.length : l.order);
    }
    layer.sort((a, b) => (keys.get(a) as number) - (keys.get(b) as number) || a.order - b.order);
    layer.forEach((l, i) => {
      l.order = i;
    });
  };
  for (let sweep = 0; sweep < 8 && bestCount > 0; sweep++) {
    if (sweep % 2 === 0) for (let r = 1; r <= maxRank; r++) sortBy(layers[r] as LNode[], preds);
    else for (let r = maxRank - 1; r >= 0; r--) sortBy(layers[r] as LNode[], succs);
    const count = total();
    if (count < bestCount) {
      bestCount = count;
      best = layers.map((layer) => layer.slice());
    }
  }
  best.forEach((layer, r) => {
    layers[r] = layer;
  });
  number();

  // 6. Vertical: each rank as tall as its tallest state; states centred in their rank.
  const rankTop: number[] = [];
  const rankHeight: number[] = [];
  let y = margin;
  for (const layer of layers) {
    const h = Math.max(0, ...layer.map((l) => l.height));
    rankTop.push(y);
    rankHeight.push(h);
    for (const l of layer) l.y = y + (h - l.height) / 2;
    y += h + o.rankGap;
  }
  const height = y - o.rankGap + margin;

  // 7. Horizontal: pack each rank, then pull states towards their neighbours' centres without overlapping.
  const gap = (a: LNode, b: LNode): number => (a.node && b.node ? o.nodeGap : DUMMY_GAP);
  for (const layer of layers) {
    let x = 0;
    for (const l of layer) {
      l.x = x + l.width / 2;
      x += l.width + o.nodeGap;
    }
  }
  const place = (layer: LNode[], desired: number[]): void => {
    const n = layer.length;
    const left: number[] = new Array(n);
    const right: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const l = layer[i] as LNode;
      const prev = layer[i - 1];
      const min = prev ? (left[i - 1] as number) + prev.width / 2 + gap(prev, l) + l.width / 2 : -Infinity;
      left[i] = Math.max(desired[i] as number, min);
    }
    for (let i = n - 1; i >= 0; i--) {
      const l = layer[i] as LNode;
      const next = layer[i + 1];
      const max = next ? (right[i + 1] as number) - next.width / 2 - gap(l, next) - l.width / 2 : Infinity;
      right[i] = Math.min(desired[i] as number, max);
    }
    let x = -Infinity;
    for (let i = 0; i < n; i++) {
      const l = layer[i] as LNode;
      const prev = layer[i - 1];
      const min = prev ? x + prev.width / 2 + gap(prev, l) + l.width / 2 : -Infinity;
      x = Math.max(((left[i] as number) + (right[i] as number)) / 2, min);
      l.x = x;
    }
  };
  for (let pass = 0; pass < 12; pass++) {
    const down = pass % 2 === 0;
    const ranks = down ? layers : layers.slice().reverse();
    for (const layer of ranks) {
      const desired = layer.map((l) => {
        const n = [
          ...((down ? preds : succs).get(l) ?? []),
          ...(pass > 6 ? ((down ? succs : preds).get(l) ?? []) : []),
        ];
        return n.length > 0 ? n.reduce((s, m) => s + m.x, 0) / n.length : l.x;
      });
      place(layer, desired);
    }
  }
  const all = layers.flat();
  const minLeft = Math.min(...all.map((l) => l.x - l.width / 2));
  for (const l of all) l.x += margin - minLeft;
  let width = Math.max(0, ...all.map((l) => l.x + l.width / 2)) + margin;

  // 8. Edges: ports spread along the bottom and top borders, through the virtual nodes; back edges on the right.
  const placed: PlacedEdge[] = [];
  const outPorts = new Map<LNode, { chain: LNode[] }[]>();
  const inPorts = new Map<LNode, { chain: LNode[] }[]>();
  for (const chain of chains.values()) {
    const item = { chain };
    outPorts.set(chain[0] as LNode, [...(outPorts.get(chain[0] as LNode) ?? []), item]);
    const last = chain[chain.length - 1] as LNode;
    inPorts.set(last, [...(inPorts.get(last) ?? []), item]);
  }
  const portX = new Map<object, { out: number; in: number }>();
  for (const [l, items] of outPorts) {
    items.sort((a, b) => (a.chain[1] as LNode).x - (b.chain[1] as LNode).x);
    items.forEach((item, i) => {
      const span = Math.min(l.width - 16, 24 * (items.length - 1));
      const x = l.x - span / 2 + (items.length > 1 ? (span * i) / (items.length - 1) : 0);
      portX.set(item, { out: x, in: 0 });
    });
  }
  for (const [l, items] of inPorts) {
    items.sort((a, b) => (a.chain[a.chain.length - 2] as LNode).x - (b.chain[b.chain.length - 2] as LNode).x);
    items.forEach((item, i) => {
      const span = Math.min(l.width - 16, 24 * (items.length - 1));
      const x = l.x - span / 2 + (items.length > 1 ? (span * i) / (items.length - 1) : 0);
      (portX.get(item) as { out: number; in: number }).in = x;
    });
  }
  for (const e of forward) {
    const chain = chains.get(e) as LNode[];
    const item = [...(outPorts.get(chain[0] as LNode) ?? [])].find((i) => i.chain === chain) as { chain: LNode[] };
    const ports = portX.get(item) as { out: number; in: number };
    const from = chain[0] as LNode;
    const to = chain[chain.length - 1] as LNode;
    const points: Point[] = [{ x: ports.out, y: from.y + from.height }];
    for (const d of chain.slice(1, -1)) {
      points.push({ x: d.x, y: rankTop[d.rank] as number });
      points.push({ x: d.x, y: (rankTop[d.rank] as number) + (rankHeight[d.rank] as number) });
    }
    points.push({ x: ports.in, y: to.y });
    const a = points[0] as Point;
    const b = points[1] as Point;
    const edge: PlacedEdge = {
      from: e.from,
      to: e.to,
      kind: e.kind,
      points,
      back: false,
      ...(e.label
        ? { label: e.label, labelAt: { x: a.x + (b.x - a.x) * 0.3, y: Math.min(a.y + 14, (a.y + b.y) / 2) } }
        : {}),
    };
    placed.push(edge);
  }
  let lane = 0;
  for (const e of edges.filter((x) => back.has(x) || x.from === x.to)) {
    const from = lnodes.get(e.from) as LNode;
    const to = lnodes.get(e.to) as LNode;
    const low = Math.min(from.rank, to.rank);
    const high = Math.max(from.rank, to.rank);
    const right = Math.max(
      ...layers.slice(low, high + 1).flatMap((layer) => layer.filter((l) => l.node).map((l) => l.x + l.width / 2)),
    );
    const x = right + BACK_EDGE_GAP + lane * 10;
    lane++;
    const fy = from.y + from.height / 2 + (from === to ? 8 : 0);
    const ty = to.y + to.height / 2 - (from === to ? 8 : 0);
    const points: Point[] = [
      { x: from.x + from.width / 2, y: fy },
      { x, y: fy },
      { x, y: ty },
      { x: to.x + to.width / 2, y: ty },
    ];
    width = Math.max(width, x + margin + 4);
    placed.push({
      from: e.from,
      to: e.to,
      kind: e.kind,
      points,
      back: true,
      ...(e.label ? { label: e.label, labelAt: { x: x + 4, y: (fy + ty) / 2 } } : {}),
    });
  }

  // 9. Absolute positions of the states, and of what compound states hold.
  const nodes: PlacedNode[] = [];
  const frames: PlacedFrame[] = [];
  const nested: ScopeLayout[] = [];
  for (const l of order) {
    const node = l.node as GraphNode;
    const left = l.x - l.width / 2;
    nodes.push({
      id: node.id,
      name: node.name,
      type: node.type,
      ...(node.resource ? { resource: node.resource } : {}),
      x: left,
      y: l.y,
      width: l.width,
      height: l.height,
      depth: 0,
      compound: l.inner.length > 0,
    });
    const content = l.inner.reduce((w, s) => w + s.width, 0) + (l.inner.length - 1) * o.nodeGap;
    let x = left + (l.width - content) / 2;
    l.inner.forEach((inner, i) => {
      const moved = shift(inner, x, l.y + o.header, 1);
      nested.push(moved);
      if (node.type === 'Parallel') {
        frames.push({
          id: node.scopes?.[i]?.id ?? `${node.id}/branch-${i + 1}`,
          owner: node.id,
          label: `Branch ${i + 1}`,
          x,
          y: l.y + o.header,
          width: inner.width,
          height: inner.height,
        });
      }
      x += inner.width + o.nodeGap;
    });
  }
  for (const n of nested) {
    nodes.push(...n.nodes);
    frames.push(...n.frames);
    placed.push(...n.edges);
  }
  return { width, height, nodes, frames, edges: placed };
}

/** Places a workflow graph (see `graphOf`). */
export function layoutGraph(graph: GraphScope, options: Partial<LayoutOptions> = {}): GraphLayout {
  const o = { ...DEFAULT_LAYOUT, ...options };
  const scope = layoutScope(graph, o, 16);
  const nodes = [...scope.nodes].sort((a, b) => Number(b.compound) - Number(a.compound) || a.depth - b.depth);
  return {
    width: Math.ceil(scope.width),
    height: Math.ceil(scope.height),
    nodes,
    frames: scope.frames,
    edges: scope.edges,
  };
}
