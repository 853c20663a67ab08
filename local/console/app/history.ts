import { html } from 'htm/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { HistoryRow } from '../model/status';
import type { HistoryEventJson } from '../source';
import { formatDuration, formatTime } from './util';

/**
 * The event history as the AWS console shows it (ID, type, step, started after, date and time), virtualized:
 * only the rows in view (and a few around them) are in the DOM, so 5,000 or 25,000 events scroll as fast as 50.
 * Keyboard: the table is one tab stop; arrows, Page Up/Down, Home and End move the active row; Enter or Space
 * opens its details.
 */

const ROW = 30;
const OVERSCAN = 12;

export interface HistoryTableProps {
  readonly rows: readonly HistoryRow[];
  readonly events: readonly HistoryEventJson[];
  readonly onStep?: (step: string) => void;
}

// size-exception(function): one Preact component: the table's filters, selection and rows; splitting it is left to the
// console's owners (issue 13)
export function HistoryTable({ rows, events, onStep }: HistoryTableProps) {
  const [filter, setFilter] = useState('');
  const [failuresOnly, setFailuresOnly] = useState(false);
  const [newestFirst, setNewestFirst] = useState(false);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(480);
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState<number | null>(null);
  const viewport = useRef<HTMLDivElement>(null);

  const shown = useMemo(() => {
    const q = filter.trim().toLowerCase();
    let list = rows as HistoryRow[];
    if (q || failuresOnly) {
      list = list.filter(
        (r) =>
          (!failuresOnly || r.tone === 'failed') &&
          (!q || r.type.toLowerCase().includes(q) || r.step.toLowerCase().includes(q) || String(r.id) === q),
      );
    }
    return newestFirst ? [...list].reverse() : list;
  }, [rows, filter, failuresOnly, newestFirst]);

  useEffect(() => {
    const el = viewport.current;
    if (!el) return;
    const measure = (): void => setHeight(el.clientHeight || 480);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((scrollTop + height) / ROW) + OVERSCAN);
  const activeIndex = Math.min(active, Math.max(0, shown.length - 1));

  const moveTo = (index: number): void => {
    const i = Math.max(0, Math.min(shown.length - 1, index));
    setActive(i);
    const el = viewport.current;
    if (!el) return;
    const top = i * ROW;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW - el.clientHeight;
  };
  const page = Math.max(1, Math.floor(height / ROW) - 1);
  const key = (e: KeyboardEvent): void => {
    const moves: Record<string, number> = {
      ArrowDown: activeIndex + 1,
      ArrowUp: activeIndex - 1,
      PageDown: activeIndex + page,
      PageUp: activeIndex - page,
      Home: 0,
      End: shown.length - 1,
    };
    const target = moves[e.key];
    if (target !== undefined) {
      e.preventDefault();
      moveTo(target);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const row = shown[activeIndex];
      if (row) setOpen(open === row.id ? null : row.id);
    }
  };

  const openEvent =
    open === null ? undefined : events[open - 1]?.id === open ? events[open - 1] : events.find((e) => e.id === open);
  const detailsText = openEvent ? JSON.stringify(withParsed(openEvent), null, 2) : '';
  const activeRow = shown[activeIndex];

  return html`<div class="history">
    <div class="history-tools">
      <label>Filter <input type="search" value=${filter} placeholder="type, state or id"
        onInput=${(e: Event) => {
          setFilter((e.target as HTMLInputElement).value);
          setActive(0);
        }} /></label>
      <label class="check"><input type="checkbox" checked=${failuresOnly}
        onChange=${(e: Event) => setFailuresOnly((e.target as HTMLInputElement).checked)} /> Failures only</label>
      <label class="check"><input type="checkbox" checked=${newestFirst}
        onChange=${(e: Event) => setNewestFirst((e.target as HTMLInputElement).checked)} /> Newest first</label>
      <span class="muted count" aria-live="polite">${shown.length === rows.length ? `${rows.length} events` : `${shown.length} of ${rows.length} events`}</span>
    </div>
    <div class="grid" role="grid" aria-label="Event history" aria-rowcount=${shown.length + 1}>
      <div class="grid-head" role="row" aria-rowindex="1">
        <span role="columnheader" class="c-id">ID</span><span role="columnheader" class="c-type">Type</span>
        <span role="columnheader" class="c-step">Step</span><span role="columnheader" class="c-el">Started after</span>
        <span role="columnheader" class="c-time">Date and time</span>
      </div>
      <div class="grid-body" ref=${viewport} tabindex="0" onScroll=${(e: Event) => setScrollTop((e.target as HTMLElement).scrollTop)}
        onKeyDown=${key} aria-activedescendant=${activeRow ? `event-row-${activeRow.id}` : undefined}
        aria-label="Events: arrows move, Enter opens an event">
        <div class="grid-space" style=${{ height: `${shown.length * ROW}px` }}>
          ${shown.slice(first, last).map((r, k) => {
            const i = first + k;
            return html`<div key=${r.id} id=${`event-row-${r.id}`} role="row" aria-rowindex=${i + 2}
                aria-selected=${i === activeIndex} class=${`grid-row t-${r.tone}${i === activeIndex ? ' active' : ''}${open === r.id ? ' open' : ''}`}
                style=${{ transform: `translateY(${i * ROW}px)` }}
                onClick=${() => {
                  setActive(i);
                  setOpen(open === r.id ? null : r.id);
                }}>
              <span role="gridcell" class="c-id num">${r.id}</span>
              <span role="gridcell" class="c-type">${r.type}${r.error ? html` <span class="err">${r.error}</span>` : null}</span>
              <span role="gridcell" class="c-step">${
                r.step && onStep
                  ? html`<a href="#graph" onClick=${(e: Event) => {
                      e.preventDefault();
                      e.stopPropagation();
                      onStep(r.step);
                    }}>${r.step}</a>`
                  : r.step
              }</span>
              <span role="gridcell" class="c-el num">${formatDuration(r.elapsed)}</span>
              <span role="gridcell" class="c-time">${formatTime(r.time)}</span>
            </div>`;
          })}
        </div>
      </div>
    </div>
    ${
      openEvent
        ? html`<div class="event-details" role="region" aria-label=${`Event ${openEvent.id} details`}>
            <div class="panel-head"><h3>Event ${openEvent.id}: ${openEvent.type}</h3>
              <button type="button" onClick=${() => setOpen(null)}>Close</button></div>
            <pre>${detailsText}</pre>
          </div>`
        : null
    }
  </div>`;
}

/** The event with its JSON-text members (input, output, parameters) shown as JSON. */
function withParsed(event: HistoryEventJson): unknown {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(event)) {
    if (v && typeof v === 'object' && k.endsWith('EventDetails')) {
      const details: Record<string, unknown> = {};
      for (const [dk, dv] of Object.entries(v as Record<string, unknown>)) {
        if (typeof dv === 'string' && /^(input|output|parameters|cause)$/.test(dk)) {
          try {
            details[dk] = JSON.parse(dv);
            continue;
          } catch {
            // Not JSON: kept as text.
          }
        }
        details[dk] = dv;
      }
      out[k] = details;
    } else out[k] = v;
  }
  return out;
}
