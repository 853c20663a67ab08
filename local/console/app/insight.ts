import './insight.css';
import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { DoraFigures, DoraReport } from '../../../core/insight/compute';
import { ApiError, onChanges, RUNTIME_API } from './api';
import { TrendPlot } from './plot';

/**
 * Delivery insight (`/insight`, ADR 0097, 0098): DORA's four keys per environment from the runtime's deployment
 * records (`GET /api/insight/dora`), each with its trend over the last 12 weeks as a plot; live: a run that ends
 * reloads them.
 */

const WINDOWS = [
  { value: '7d', label: 'Last 7 days' },
  { value: '30d', label: 'Last 30 days' },
  { value: '90d', label: 'Last 90 days' },
];

/** Seconds as a person reads a lead time: `45s`, `12m`, `3h 20m`, `2d 4h`. */
export function human(seconds: number | null): string {
  if (seconds === null) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

const percent = (rate: number | null): string => (rate === null ? '–' : `${Math.round(rate * 100)}%`);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

async function fetchReport(since: string): Promise<DoraReport> {
  const res = await fetch(`${RUNTIME_API}/insight/dora?since=${encodeURIComponent(since)}`);
  if (res.status === 404) throw new ApiError(404, 'Delivery insight needs the Stepline runtime behind this console.');
  const body = (await res.json().catch(() => ({}))) as DoraReport & { message?: string };
  if (!res.ok) throw new ApiError(res.status, body.message ?? `${res.status} ${res.statusText}`);
  return body;
}

function Figure({ name, value, detail }: { name: string; value: string; detail: string }) {
  return html`<div class="figure" data-key=${name}>
    <dt>${name}</dt>
    <dd><span class="value">${value}</span><span class="detail">${detail}</span></dd>
  </div>`;
}

function Environment({ e }: { e: DoraFigures }) {
  const f = e.deploymentFrequency;
  const weeks = e.trend.map((w) => w.start);
  const restore = e.timeToRestore.openSince
    ? `failed since ${new Date(e.timeToRestore.openSince).toLocaleString()}`
    : plural(e.timeToRestore.restores, 'restore');
  return html`<section class="dora-env" aria-labelledby=${`env-${e.environment}`} data-environment=${e.environment}>
    <h2 id=${`env-${e.environment}`}>${e.environment}</h2>
    <p class="muted small">${e.repositories.join(', ')}</p>
    <dl class="figures">
      <${Figure} name="Deployment frequency" value=${`${f.perDay.toFixed(2)}/day`}
        detail=${`${plural(f.succeeded, 'successful deploy')}${f.bucket ? ` · ${f.bucket}` : ''}`} />
      <${Figure} name="Lead time for changes" value=${human(e.leadTime.median)}
        detail=${`median of ${plural(e.leadTime.changes, 'change')} · p90 ${human(e.leadTime.p90)}`} />
      <${Figure} name="Change failure rate" value=${percent(e.changeFailureRate.rate)}
        detail=${`${e.changeFailureRate.failures} of ${plural(e.changeFailureRate.deploys, 'deploy')}`} />
      <${Figure} name="Time to restore" value=${human(e.timeToRestore.median)} detail=${restore} />
    </dl>
    <div class="plots">
      <${TrendPlot} title="Successful deploys per week" kind="bars" weeks=${weeks}
        values=${e.trend.map((w) => w.succeeded)} format=${(v: number) => String(Math.round(v))} />
      <${TrendPlot} title="Lead time, median" kind="line" weeks=${weeks}
        values=${e.trend.map((w) => w.leadTimeMedian)} format=${human} />
      <${TrendPlot} title="Change failure rate" kind="bars" weeks=${weeks}
        values=${e.trend.map((w) => w.changeFailureRate)} format=${(v: number) => percent(v)} />
      <${TrendPlot} title="Time to restore, median" kind="line" weeks=${weeks}
        values=${e.trend.map((w) => w.timeToRestoreMedian)} format=${human} />
    </div>
  </section>`;
}

export function InsightPage() {
  const [since, setSince] = useState(new URLSearchParams(location.search).get('since') ?? '30d');
  const [report, setReport] = useState<DoraReport | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setReport(await fetchReport(since));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [since]);

  useEffect(() => {
    const search = since === '30d' ? '' : `?since=${since}`;
    if (location.search !== search) history.replaceState(null, '', `/insight${search}`);
    void load();
  }, [load]);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = onChanges((changes) => {
      if (!changes.some((c) => c.kind === 'execution')) return;
      clearTimeout(timer);
      timer = setTimeout(() => void load(), 300);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [load]);

  document.title = 'Delivery insight · Stepline';
  return html`<section class="insight" aria-labelledby="insight-title">
    <div class="page-head">
      <h1 id="insight-title">Delivery insight</h1>
      <form class="filters" aria-label="The figures' window" onSubmit=${(e: Event) => e.preventDefault()}>
        <label>Window
          <select value=${since} onChange=${(e: Event) => setSince((e.target as HTMLSelectElement).value)}>
            ${WINDOWS.map((w) => html`<option value=${w.value}>${w.label}</option>`)}
          </select>
        </label>
      </form>
    </div>
    <p class="muted">DORA's four keys per environment, from the deploys Stepline recorded; the plots are the last 12
      weeks. <code>stepline metrics dora</code> prints the same.</p>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${
      report === null
        ? error
          ? null
          : html`<p class="muted">Loading…</p>`
        : report.environments.length === 0
          ? html`<p class="empty">No deploys recorded yet: a run that reaches an environment records one
              (<code>stepline metrics dora --backfill</code> records the runs this runtime held before).</p>`
          : report.environments.map((e) => html`<${Environment} key=${e.environment} e=${e} />`)
    }
  </section>`;
}
