import type { AnalysisMetric } from '../../core/config/strategy';
import type { Measured, MetricProvider } from '../../core/deploy/analysis/contracts';
import { prometheusMeasurement } from '../../core/deploy/analysis/prometheus';
import { prometheusProvider } from '../../functions/analysis/prometheus';
import { type Router, sendText } from '../server/http';

/**
 * The local metrics source (ADR 0068): what the demo's sample service "exposes", served by the runtime because no
 * container runs on the simulated cluster. Per namespace and Deployment, per track (stable, canary, preview), an
 * error ratio and request counters in the Prometheus text format (`GET /metrics/services/<namespace>/<name>`), a
 * Prometheus instant-query API over them (`GET /prometheus/api/v1/query`: instant vector selectors, `name{a="b"}`),
 * the analysis function's Prometheus provider for `http://prometheus.stepline.local` in process, and answers for the
 * workflow's `aws-sdk:cloudwatch:getMetricData` Task (a MetricStat's MetricName and Dimensions as the name and
 * labels). The demo raises a track's error ratio (`setErrorRatio`) to make an analysis fail.
 */

export const LOCAL_PROMETHEUS_HOST = 'prometheus.stepline.local';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const TRACKS = ['stable', 'canary', 'preview'] as const;
const DEFAULT_ERROR_RATIO = 0.01;

export class LocalMetricsSource {
  private readonly services = new Map<string, { namespace: string; name: string }>();
  private readonly ratios = new Map<string, number>();
  private readonly started = Date.now();

  /** A Deployment whose metrics the source exposes (the demo names its sample's). */
  public expose(namespace: string, name: string): void {
    this.services.set(`${namespace}/${name}`, { namespace, name });
  }

  /** A query that names a namespace and a Deployment finds it exposed: every service has metrics, 1% errors. */
  private exposeNamed(labels: Readonly<Record<string, string>>): void {
    const { namespace, deployment } = labels;
    if (namespace && deployment) this.expose(namespace, deployment);
  }

  /** The error ratio of one track of a Deployment (0-1). */
  public setErrorRatio(namespace: string, name: string, track: string, ratio: number): void {
    this.expose(namespace, name);
    this.ratios.set(`${namespace}/${name}/${track}`, ratio);
  }

  private samples(filter?: { namespace: string; name: string }): Sample[] {
    const out: Sample[] = [];
    const seconds = Math.max(1, Math.round((Date.now() - this.started) / 1000));
    for (const service of this.services.values()) {
      if (filter && (filter.namespace !== service.namespace || filter.name !== service.name)) continue;
      for (const track of TRACKS) {
        const ratio = this.ratios.get(`${service.namespace}/${service.name}/${track}`) ?? DEFAULT_ERROR_RATIO;
        const labels = { namespace: service.namespace, deployment: service.name, track };
        const requests = seconds * 10;
        out.push({ name: 'stepline_demo_http_error_ratio', labels, value: ratio });
        out.push({
          name: 'stepline_demo_http_requests_total',
          labels: { ...labels, code: '200' },
          value: Math.round(requests * (1 - ratio)),
        });
        out.push({
          name: 'stepline_demo_http_requests_total',
          labels: { ...labels, code: '500' },
          value: Math.round(requests * ratio),
        });
      }
    }
    return out;
  }

  /** The Prometheus text exposition of one Deployment's metrics, or of all. */
  public text(filter?: { namespace: string; name: string }): string {
    const lines = [
      '# HELP stepline_demo_http_error_ratio Share of requests answered 5xx, by track.',
      '# TYPE stepline_demo_http_error_ratio gauge',
      '# HELP stepline_demo_http_requests_total Requests answered, by track and code.',
      '# TYPE stepline_demo_http_requests_total counter',
    ];
    for (const s of this.samples(filter)) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
        .join(',');
      lines.push(`${s.name}{${labels}} ${s.value}`);
    }
    return `${lines.join('\n')}\n`;
  }

  /** The instant-query API's answer (status and JSON body) for an instant vector selector. */
  public query(query: string): { status: number; body: string } {
    const selector = parseSelector(query);
    if (!selector) {
      return {
        status: 400,
        body: JSON.stringify({
          status: 'error',
          errorType: 'bad_data',
          error: `the local source answers instant vector selectors only (name{label="value"}), not: ${query.slice(0, 200)}`,
        }),
      };
    }
    this.exposeNamed(selector.labels);
    const now = Date.now() / 1000;
    const result = this.samples()
      .filter((s) => s.name === selector.name && Object.entries(selector.labels).every(([k, v]) => s.labels[k] === v))
      .map((s) => ({ metric: { __name__: s.name, ...s.labels }, value: [now, String(s.value)] }));
    return { status: 200, body: JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }) };
  }

  /**
   * The analysis function's Prometheus provider: `http://prometheus.stepline.local` is answered here, in process;
   * any other address goes to `fallback` (over HTTP, as on AWS).
   */
  public provider(
    fallback: MetricProvider = prometheusProvider({
      fetch: (url, init) => fetch(url, init),
      credentials: async () => {
        throw new Error('the local runtime has no AWS credentials to sign Amazon Managed Prometheus queries with');
      },
    }),
  ): MetricProvider {
    return {
      measure: async (metric: AnalysisMetric, context): Promise<Measured> => {
        if (!('prometheus' in metric.provider)) return fallback.measure(metric, context);
        if (new URL(metric.provider.prometheus.address).hostname !== LOCAL_PROMETHEUS_HOST) {
          return fallback.measure(metric, context);
        }
        const { status, body } = this.query(metric.provider.prometheus.query);
        return prometheusMeasurement(status, body);
      },
    };
  }

  /** GetMetricData's answer, as the Step Functions AWS SDK integration returns it (PascalCase). */
  public getMetricData(input: { MetricDataQueries?: Record<string, unknown>[] }): Record<string, unknown> {
    const now = new Date().toISOString();
    const results = (input.MetricDataQueries ?? [])
      .filter((q) => q['ReturnData'] !== false)
      .map((q) => {
        const stat = q['MetricStat'] as
          | { Metric?: { MetricName?: string; Dimensions?: { Name: string; Value: string }[] } }
          | undefined;
        const name = stat?.Metric?.MetricName ?? '';
        const labels = Object.fromEntries((stat?.Metric?.Dimensions ?? []).map((d) => [d.Name, d.Value]));
        this.exposeNamed(labels);
        const values = this.samples()
          .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
          .map((s) => s.value);
        return { Id: q['Id'], Label: name, StatusCode: 'Complete', Timestamps: values.map(() => now), Values: values };
      });
    return { MetricDataResults: results, Messages: [] };
  }
}

/** `name`, `name{a="b", c="d"}`: an instant vector selector with equality matchers; null for anything else. */
export function parseSelector(query: string): { name: string; labels: Record<string, string> } | null {
  const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{([^}]*)\})?\s*$/.exec(query);
  if (!m) return null;
  const labels: Record<string, string> = {};
  const body = (m[2] ?? '').trim();
  if (body) {
    for (const part of body
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"$/.exec(part);
      if (!l) return null;
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    }
  }
  return { name: m[1] as string, labels };
}

/** The source's HTTP routes: the sample service's exposition and the instant-query API. */
export function metricsRoutes(router: Router, source: LocalMetricsSource): void {
  router.add('GET', '/metrics/services/:namespace/:name', ({ res, params }) =>
    sendText(
      res,
      200,
      source.text({ namespace: params['namespace'] ?? '', name: params['name'] ?? '' }),
      'text/plain; version=0.0.4; charset=utf-8',
    ),
  );
  router.add('GET', '/prometheus/api/v1/query', ({ res, url }) => {
    const { status, body } = source.query(url.searchParams.get('query') ?? '');
    sendText(res, status, body, 'application/json');
  });
}
