import { html } from 'htm/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { GraphLayout, PlacedEdge, PlacedNode } from '../model/layout';
import type { StateSummary } from '../model/status';
import { STATUS_LABEL } from './util';

/** The workflow drawn as SVG from its layout, each state coloured by its status in this run. */

function pathOf(edge: PlacedEdge): string {
  const p = edge.points;
  const first = p[0];
  if (!first) return '';
  let d = `M${first.x},${first.y}`;
  if (edge.back) {
    for (const q of p.slice(1)) d += ` L${q.x},${q.y}`;
    return d;
  }
  for (let i = 1; i < p.length; i++) {
    const a = p[i - 1] as { x: number; y: number };
    const b = p[i] as { x: number; y: number };
    if (a.x === b.x) d += ` L${b.x},${b.y}`;
    else {
      const my = (a.y + b.y) / 2;
      d += ` C${a.x},${my} ${b.x},${my} ${b.x},${b.y}`;
    }
  }
  return d;
}

/** Whether an edge leaves towards the left (its label then reads leftwards from it). */
function leftward(edge: PlacedEdge): boolean {
  const [a, b] = edge.points;
  return !edge.back && !!a && !!b && b.x < a.x - 2;
}

function clip(text: string, width: number, charWidth = 7): string {
  const max = Math.max(4, Math.floor((width - 16) / charWidth));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function countLabel(summary: StateSummary | undefined): string {
  if (!summary || summary.runs.length <= 1) return '';
  const live = summary.runs.filter((r) => !r.superseded);
  const ok = live.filter((r) => r.status === 'succeeded' || r.status === 'caught').length;
  return ` · ${ok}/${live.length}`;
}

interface NodeProps {
  readonly node: PlacedNode;
  readonly summary: StateSummary | undefined;
  readonly selected: boolean;
  readonly onSelect: (name: string) => void;
}

function Node({ node, summary, selected, onSelect }: NodeProps) {
  const status = summary?.status ?? 'notStarted';
  if (node.type === 'Start' || node.type === 'End') {
    return html`<g class="marker" aria-hidden="true">
      <rect x=${node.x} y=${node.y} width=${node.width} height=${node.height} rx=${node.height / 2} />
      <text x=${node.x + node.width / 2} y=${node.y + node.height / 2 + 4} text-anchor="middle">${node.name}</text>
    </g>`;
  }
  const label = `${node.name}, ${node.type} state, ${STATUS_LABEL[status]}${countLabel(summary)}`;
  const key = (e: KeyboardEvent): void => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onSelect(node.name);
    }
  };
  const sub = `${node.resource ?? node.type}${countLabel(summary)}`;
  if (node.compound) {
    return html`<g class=${`state compound s-${status}${selected ? ' selected' : ''}`} data-state=${node.name}
        data-status=${status} tabindex="0" role="button" aria-pressed=${selected} aria-label=${label}
        onClick=${() => onSelect(node.name)} onKeyDown=${key}>
      <title>${label}</title>
      <rect x=${node.x} y=${node.y} width=${node.width} height=${node.height} rx="10" />
      <text class="name" x=${node.x + 12} y=${node.y + 19}>${clip(node.name, node.width * 0.6)}</text>
      <text class="sub" x=${node.x + node.width - 12} y=${node.y + 19} text-anchor="end">${node.type}${countLabel(summary)}</text>
    </g>`;
  }
  return html`<g class=${`state s-${status}${selected ? ' selected' : ''}`} data-state=${node.name} data-status=${status}
      tabindex="0" role="button" aria-pressed=${selected} aria-label=${label}
      onClick=${() => onSelect(node.name)} onKeyDown=${key}>
    <title>${label}</title>
    <rect x=${node.x} y=${node.y} width=${node.width} height=${node.height} rx="7" />
    <text class="name" x=${node.x + node.width / 2} y=${node.y + 19} text-anchor="middle">${clip(node.name, node.width)}</text>
    <text class="sub" x=${node.x + node.width / 2} y=${node.y + 35} text-anchor="middle">${clip(sub, node.width, 6)}</text>
  </g>`;
}

export interface GraphProps {
  readonly layout: GraphLayout;
  readonly states: ReadonlyMap<string, StateSummary>;
  readonly transitions: ReadonlySet<string>;
  readonly selected: string | null;
  readonly onSelect: (name: string) => void;
  /** Whether every Catch transition is drawn (else only those the run took), and how many there are. */
  readonly catches?: boolean;
  readonly catchCount?: number;
  readonly onCatches?: (on: boolean) => void;
}

/** The width of one character of an edge's label (11 px sans-serif), a little over, so that estimates cover it. */
const LABEL_CHAR_WIDTH = 6.2;

/** Up to `lines` lines of at most `width` characters, cut at spaces where it can; the rest ends in an ellipsis. */
export function wrapLabel(text: string, width = 34, lines = 3): string[] {
  const out: string[] = [];
  let rest = text.trim();
  while (rest && out.length < lines) {
    if (rest.length <= width) {
      out.push(rest);
      rest = '';
      break;
    }
    const space = rest.lastIndexOf(' ', width);
    const cut = space > width / 2 ? space : width;
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest && out.length) out[out.length - 1] = `${(out.at(-1) ?? '').slice(0, width - 1)}…`;
  return out;
}

export function WorkflowGraph({
  layout,
  states,
  transitions,
  selected,
  onSelect,
  catches = true,
  catchCount = 0,
  onCatches,
}: GraphProps) {
  const [scale, setScale] = useState(1);
  const edges = useMemo(
    () =>
      layout.edges.map((e) => ({
        e,
        d: pathOf(e),
      })),
    [layout],
  );
  const taken = (e: PlacedEdge): boolean =>
    transitions.has(`${e.from}->${e.to}|${e.kind === 'catch' ? 'catch' : 'next'}`);
  const scroller = useRef<HTMLDivElement>(null);
  // Keeps the selected state in view (a state chosen for the reader, such as the failed one, may be far down).
  useEffect(() => {
    const el = scroller.current;
    const node = selected ? layout.nodes.find((n) => n.name === selected) : undefined;
    if (!el || !node) return;
    const top = node.y * scale;
    const bottom = (node.y + Math.min(node.height, 120)) * scale;
    if (top < el.scrollTop || bottom > el.scrollTop + el.clientHeight) {
      el.scrollTop = Math.max(0, top - el.clientHeight / 3);
    }
    const left = node.x * scale;
    const right = (node.x + node.width) * scale;
    if (left < el.scrollLeft || right > el.scrollLeft + el.clientWidth) el.scrollLeft = Math.max(0, left - 40);
  }, [selected, layout, scale]);
  // Room for the labels that reach past the layout's edges (a Choice's condition written leftwards from its
  // arrow), so that none is cut by the drawing's border.
  const { left, right } = useMemo(() => {
    let l = 0;
    let r = 0;
    for (const e of layout.edges) {
      if (!e.label || !e.labelAt || e.label === 'States.ALL') continue;
      const width = Math.max(...wrapLabel(e.label).map((line) => line.length)) * LABEL_CHAR_WIDTH;
      if (leftward(e)) l = Math.max(l, width - (e.labelAt.x - 4) + 4);
      else r = Math.max(r, e.labelAt.x + 4 + width - layout.width + 4);
    }
    return { left: Math.ceil(l), right: Math.ceil(r) };
  }, [layout]);
  const zoom = (f: number): void => setScale((s) => Math.min(2, Math.max(0.3, Math.round(s * f * 10) / 10)));
  return html`<div class="graph">
    <div class="graph-tools" role="toolbar" aria-label="Graph zoom">
      <button type="button" onClick=${() => zoom(1 / 1.25)} aria-label="Zoom out">−</button>
      <span aria-live="polite">${Math.round(scale * 100)}%</span>
      <button type="button" onClick=${() => zoom(1.25)} aria-label="Zoom in">+</button>
      <button type="button" onClick=${() => setScale(1)}>Reset</button>
      ${
        onCatches && catchCount > 0
          ? html`<label class="catch-toggle"><input type="checkbox" checked=${catches}
              onChange=${(e: Event) => onCatches((e.target as HTMLInputElement).checked)} /> Catch transitions (${catchCount})</label>`
          : null
      }
      <span class="legend" aria-hidden="true">
        <i class="s-succeeded"></i>Succeeded <i class="s-running"></i>In progress <i class="s-failed"></i>Failed
        <i class="s-caught"></i>Caught <i class="s-notStarted"></i>Not started
      </span>
    </div>
    <div class="graph-scroll" ref=${scroller}>
      <svg width=${(layout.width + left + right) * scale} height=${layout.height * scale}
        viewBox=${`${-left} 0 ${layout.width + left + right} ${layout.height}`}
        role="group" aria-label="Workflow graph: select a state to see its input, output and error">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
        </defs>
        ${layout.nodes
          .filter((n) => n.compound)
          .map(
            (n) =>
              html`<${Node} key=${n.id} node=${n} summary=${states.get(n.name)} selected=${selected === n.name} onSelect=${onSelect} />`,
          )}
        ${layout.frames.map(
          (
            f,
          ) => html`<g class="frame" aria-hidden="true"><rect x=${f.x} y=${f.y} width=${f.width} height=${f.height} rx="6" />
            <text x=${f.x + 6} y=${f.y + 12}>${f.label}</text></g>`,
        )}
        <g class="edges" aria-hidden="true">
          ${edges.map(
            ({ e, d }) => html`<g class=${`edge ${e.kind}${taken(e) ? ' taken' : ''}`}>
              <path d=${d} marker-end="url(#arrow)"><title>${e.from} → ${e.to}${e.label ? ` (${e.label})` : ''}</title></path>
              ${
                e.label && e.labelAt && e.label !== 'States.ALL'
                  ? html`<text x=${e.labelAt.x + (leftward(e) ? -4 : 4)} y=${e.labelAt.y} text-anchor=${leftward(e) ? 'end' : 'start'}>${wrapLabel(
                      e.label,
                    ).map(
                      (line, i) =>
                        html`<tspan x=${e.labelAt ? e.labelAt.x + (leftward(e) ? -4 : 4) : 0} dy=${i === 0 ? 0 : 13}>${line}</tspan>`,
                    )}</text>`
                  : null
              }
            </g>`,
          )}
        </g>
        ${layout.nodes
          .filter((n) => !n.compound)
          .map(
            (n) =>
              html`<${Node} key=${n.id} node=${n} summary=${states.get(n.name)} selected=${selected === n.name} onSelect=${onSelect} />`,
          )}
      </svg>
    </div>
  </div>`;
}
