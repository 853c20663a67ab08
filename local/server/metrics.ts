/**
 * A small Prometheus registry for `GET /metrics` (text exposition format 0.0.4): counters, gauges and
 * histograms with labels. Names and help texts are declared once; samples are kept in memory (counters start
 * from zero at each start of the runtime, as a Prometheus scrape expects of a restarted process).
 */

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly buckets?: readonly number[];
}

interface HistogramSample {
  readonly counts: number[];
  sum: number;
  count: number;
}

export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

function key(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`)
    .join(',');
}

function formatNumber(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1e6) / 1e6);
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();
  private readonly values = new Map<string, Map<string, number>>();
  private readonly histograms = new Map<string, Map<string, HistogramSample>>();
  private readonly collectors: (() => void)[] = [];

  public counter(name: string, help: string): void {
    this.families.set(name, { name, help, type: 'counter' });
  }

  public gauge(name: string, help: string): void {
    this.families.set(name, { name, help, type: 'gauge' });
  }

  public histogram(name: string, help: string, buckets: readonly number[] = DURATION_BUCKETS): void {
    this.families.set(name, { name, help, type: 'histogram', buckets: [...buckets].sort((a, b) => a - b) });
  }

  /** Runs before each exposition: gauges computed from the state (parked deliveries, running executions). */
  public collect(collector: () => void): void {
    this.collectors.push(collector);
  }

  private family(name: string, type: Family['type']): Family {
    const family = this.families.get(name);
    if (!family || family.type !== type) throw new TypeError(`metric ${name} is not a declared ${type}`);
    return family;
  }

  public inc(name: string, labels: Labels = {}, by = 1): void {
    this.family(name, 'counter');
    const series = this.values.get(name) ?? new Map<string, number>();
    const k = key(labels);
    series.set(k, (series.get(k) ?? 0) + by);
    this.values.set(name, series);
  }

  public set(name: string, labels: Labels, value: number): void {
    this.family(name, 'gauge');
    const series = this.values.get(name) ?? new Map<string, number>();
    series.set(key(labels), value);
    this.values.set(name, series);
  }

  /** Forgets every series of a gauge (before a collector sets the current ones). */
  public reset(name: string): void {
    this.values.delete(name);
  }

  public observe(name: string, labels: Labels, value: number): void {
    const family = this.family(name, 'histogram');
    const buckets = family.buckets ?? DURATION_BUCKETS;
    const series = this.histograms.get(name) ?? new Map<string, HistogramSample>();
    const k = key(labels);
    const sample = series.get(k) ?? { counts: buckets.map(() => 0), sum: 0, count: 0 };
    buckets.forEach((bound, i) => {
      if (value <= bound) sample.counts[i] = (sample.counts[i] ?? 0) + 1;
    });
    sample.sum += value;
    sample.count += 1;
    series.set(k, sample);
    this.histograms.set(name, series);
  }

  /** The current value of a counter or gauge series (tests, the CLI). */
  public value(name: string, labels: Labels = {}): number {
    return this.values.get(name)?.get(key(labels)) ?? 0;
  }

  /** The text exposition format. */
  public expose(): string {
    for (const collector of this.collectors) {
      try {
        collector();
      } catch {
        // A collector that fails leaves its gauges as they were.
      }
    }
    const lines: string[] = [];
    for (const family of this.families.values()) {
      lines.push(`# HELP ${family.name} ${family.help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}`);
      lines.push(`# TYPE ${family.name} ${family.type}`);
      if (family.type === 'histogram') {
        const buckets = family.buckets ?? DURATION_BUCKETS;
        for (const [k, sample] of this.histograms.get(family.name) ?? []) {
          const prefix = k ? `${k},` : '';
          buckets.forEach((bound, i) => {
            lines.push(`${family.name}_bucket{${prefix}le="${formatNumber(bound)}"} ${sample.counts[i] ?? 0}`);
          });
          lines.push(`${family.name}_bucket{${prefix}le="+Inf"} ${sample.count}`);
          lines.push(`${family.name}_sum${k ? `{${k}}` : ''} ${formatNumber(sample.sum)}`);
          lines.push(`${family.name}_count${k ? `{${k}}` : ''} ${sample.count}`);
        }
        continue;
      }
      for (const [k, value] of this.values.get(family.name) ?? []) {
        lines.push(`${family.name}${k ? `{${k}}` : ''} ${formatNumber(value)}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}
