import { html } from 'htm/preact';

/**
 * A small trend plot in SVG (no charting library, ADR 0098): one value per week, bars or a line with points; a week
 * with no value has no bar or point. The values' largest is the top of the axis, labelled; the first and the last
 * week are labelled under it. Each mark carries `data-week` and `data-value`, and a `<title>` a person can hover.
 */

export interface TrendPlotProps {
  readonly title: string;
  /** ISO dates of the weeks' first days, oldest first. */
  readonly weeks: readonly string[];
  readonly values: readonly (number | null)[];
  readonly kind: 'bars' | 'line';
  /** How a value reads: `3`, `45m`, `33%`. */
  readonly format: (value: number) => string;
}

const W = 260;
const H = 110;
const PAD = { left: 34, right: 6, top: 8, bottom: 18 };

const day = (iso: string): string => iso.slice(5, 10);

export function TrendPlot({ title, weeks, values, kind, format }: TrendPlotProps) {
  const top = Math.max(0, ...values.filter((v): v is number => v !== null));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, values.length);
  const x = (i: number): number => PAD.left + step * i + step / 2;
  const y = (v: number): number => PAD.top + plotH - (top > 0 ? (v / top) * plotH : 0);
  const known = values.map((v, i) => ({ v, i })).filter((p): p is { v: number; i: number } => p.v !== null);
  const said = known.length
    ? `${title}, week by week: ${known.map((p) => `${day(weeks[p.i] ?? '')} ${format(p.v)}`).join(', ')}`
    : `${title}: no value in these weeks`;
  const mark = (p: { v: number; i: number }) => {
    const label = `week of ${day(weeks[p.i] ?? '')}: ${format(p.v)}`;
    if (kind === 'bars') {
      const h = Math.max(p.v > 0 ? 1.5 : 0, PAD.top + plotH - y(p.v));
      return html`<rect class="mark" x=${x(p.i) - step * 0.35} y=${PAD.top + plotH - h} width=${step * 0.7} height=${h}
        data-week=${weeks[p.i]} data-value=${p.v}><title>${label}</title></rect>`;
    }
    return html`<circle class="mark" cx=${x(p.i)} cy=${y(p.v)} r="3" data-week=${weeks[p.i]} data-value=${p.v}><title>${label}</title></circle>`;
  };
  const line =
    kind === 'line' && known.length > 1
      ? html`<polyline class="line" points=${known.map((p) => `${x(p.i)},${y(p.v)}`).join(' ')} />`
      : null;
  return html`<figure class="plot">
    <figcaption>${title}</figcaption>
    <svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${said} preserveAspectRatio="xMidYMid meet">
      <line class="axis" x1=${PAD.left} y1=${PAD.top + plotH} x2=${W - PAD.right} y2=${PAD.top + plotH} />
      <line class="grid" x1=${PAD.left} y1=${PAD.top} x2=${W - PAD.right} y2=${PAD.top} />
      <text class="tick" x=${PAD.left - 4} y=${PAD.top + 4} text-anchor="end">${format(top)}</text>
      <text class="tick" x=${PAD.left - 4} y=${PAD.top + plotH} text-anchor="end">${format(0)}</text>
      ${line}
      ${known.map(mark)}
      <text class="tick" x=${x(0)} y=${H - 4} text-anchor="middle">${day(weeks[0] ?? '')}</text>
      <text class="tick" x=${x(values.length - 1)} y=${H - 4} text-anchor="middle">${day(weeks.at(-1) ?? '')}</text>
    </svg>
  </figure>`;
}
