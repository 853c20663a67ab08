import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as coreMetrics from '../../core/contracts/metrics';
import * as deployContracts from '../../core/deploy/contracts';
import * as insightContracts from '../../core/insight/contracts';
import * as statusContracts from '../../core/status/contracts';
import { Observability, SERVICES, STATUS_SERVICE } from '../../infra/constructs/Observability';
import type { Runtime } from '../../local/runtime';
import { DORA_SERIES } from '../../local/runtime/insight';
import { evaluate, resourcesOfType, testStack } from '../infra/helpers';
import { removeDir, startTestRuntime } from '../local/runtime/support';

/**
 * `dashboards/grafana/stepline.json` against what Stepline exports, derived from the code, never listed by hand:
 * - the Prometheus series: the families the local runtime's `/metrics` declares (`# TYPE` lines), a histogram's
 *   `_bucket`, `_sum` and `_count` with it;
 * - the CloudWatch metrics: in the `Stepline` namespace, the values of the core contracts' `*_METRICS` objects (what
 *   the functions emit), with a `service` dimension one of the services the Observability construct names; in the
 *   AWS namespaces, the metrics the synthesized CloudWatch dashboard (Observability) charts.
 */

const FILE = resolve(__dirname, '../../dashboards/grafana/stepline.json');

interface Target {
  readonly datasource: { readonly type: string; readonly uid: string };
  readonly refId: string;
  readonly expr?: string;
  readonly namespace?: string;
  readonly metricName?: string;
  readonly dimensions?: Record<string, string>;
  readonly metricEditorMode?: number;
  readonly expression?: string;
  readonly id?: string;
  readonly hide?: boolean;
}

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly targets?: readonly Target[];
}

interface Dashboard {
  readonly schemaVersion: number;
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Record<string, unknown>[] };
}

const dashboard = (): Dashboard => JSON.parse(readFileSync(FILE, 'utf8')) as Dashboard;
const targets = (d: Dashboard, type: string) =>
  d.panels.flatMap((p) => (p.targets ?? []).filter((t) => t.datasource.type === type).map((t) => ({ panel: p, t })));

/** Every `stepline_*` name a PromQL expression reads. */
const seriesIn = (expr: string): string[] => [...expr.matchAll(/\bstepline_[a-z0-9_]+/g)].map((m) => m[0]);

/** The series a family exposes: a histogram's buckets, sum and count; any other, itself. */
function exposedSeries(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    else names.add(name as string);
  }
  return names;
}

/** What a dashboard's Prometheus side reads that is not exported: `<panel>: <series>`. */
function unknownSeries(d: Dashboard, exported: Set<string>): string[] {
  const queries = [
    ...targets(d, 'prometheus').map(({ panel, t }) => ({ where: panel.title, expr: t.expr ?? '' })),
    ...d.templating.list
      .filter((v) => (v['datasource'] as { type?: string } | undefined)?.type === 'prometheus')
      .map((v) => ({ where: `$${v['name']}`, expr: (v['query'] as { query: string }).query })),
  ];
  return queries.flatMap(({ where, expr }) => {
    const named = seriesIn(expr);
    if (named.length === 0) return [`${where}: no stepline series in "${expr}"`];
    return named.filter((s) => !exported.has(s)).map((s) => `${where}: ${s}`);
  });
}

/** The metrics of the Stepline namespace the functions emit: the values of every `*_METRICS` contract. */
function emittedMetrics(): Set<string> {
  const names = new Set<string>();
  for (const module of [coreMetrics, deployContracts, insightContracts, statusContracts] as Record<string, unknown>[]) {
    for (const [key, value] of Object.entries(module)) {
      if (key.endsWith('_METRICS') && value && typeof value === 'object') {
        for (const name of Object.values(value)) if (typeof name === 'string') names.add(name);
      }
    }
  }
  return names;
}

/** `<namespace>/<metric>` of every metric the synthesized CloudWatch dashboard charts or an alarm of it watches. */
function chartedMetrics(): Set<string> {
  const stack = testStack();
  new Observability(stack, 'Observability', {
    stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Test-pipeline',
    parking: { queue: new sqs.Queue(stack, 'Parking'), deadLetterQueue: new sqs.Queue(stack, 'Dead') },
    environments: ['production'],
  });
  const template = Template.fromStack(stack).toJSON() as never;
  const body = evaluate(resourcesOfType(template, 'AWS::CloudWatch::Dashboard')[0]![1].DashboardBody) as string;
  const charted = new Set<string>();
  for (const [, alarm] of resourcesOfType(template, 'AWS::CloudWatch::Alarm')) {
    if (typeof alarm['Namespace'] === 'string') charted.add(`${alarm['Namespace']}/${alarm['MetricName']}`);
  }
  for (const widget of (JSON.parse(body) as { widgets: { properties: { metrics?: unknown[][] } }[] }).widgets) {
    for (const row of widget.properties.metrics ?? []) {
      if (typeof row[0] === 'string' && typeof row[1] === 'string') charted.add(`${row[0]}/${row[1]}`);
    }
  }
  return charted;
}

/** What a dashboard's CloudWatch side reads that Stepline neither emits nor charts: `<panel>: <why>`. */
function unknownMetrics(d: Dashboard, emitted: Set<string>, charted: Set<string>, services: Set<string>): string[] {
  const problems: string[] = [];
  const check = (where: string, namespace: string, metric: string, dimensions: Record<string, string>) => {
    if (namespace === 'Stepline') {
      if (!emitted.has(metric) && !charted.has(`${namespace}/${metric}`)) problems.push(`${where}: Stepline/${metric}`);
      const service = dimensions['service'];
      if (service !== undefined && !services.has(service)) problems.push(`${where}: service ${service}`);
    } else if (!charted.has(`${namespace}/${metric}`)) problems.push(`${where}: ${namespace}/${metric}`);
  };
  for (const panel of d.panels) {
    const own = (panel.targets ?? []).filter((t) => t.datasource.type === 'cloudwatch');
    const ids = new Set(own.filter((t) => t.hide && t.id).map((t) => t.id));
    for (const t of own) {
      if (t.metricEditorMode === 1) {
        // A math expression: it may read only the hidden queries of its own panel, by their ids.
        const read = [...(t.expression ?? '').matchAll(/\b([a-z][A-Za-z0-9_]*)\b/g)].map((m) => m[1] as string);
        for (const id of read.filter((r) => r !== 'IF' && !ids.has(r))) problems.push(`${panel.title}: reads ${id}`);
      } else check(panel.title, t.namespace ?? '', t.metricName ?? '', t.dimensions ?? {});
    }
  }
  for (const v of d.templating.list) {
    const q = v['query'] as
      | { namespace?: string; metricName?: string; dimensionFilters?: Record<string, string> }
      | undefined;
    if ((v['datasource'] as { type?: string } | undefined)?.type === 'cloudwatch' && q?.namespace) {
      check(`$${v['name']}`, q.namespace, q.metricName ?? '', q.dimensionFilters ?? {});
    }
  }
  return problems;
}

describe('the Grafana dashboard', () => {
  let runtime: Runtime;
  let exported: Set<string>;
  const emitted = emittedMetrics();
  const charted = chartedMetrics();
  const services = new Set<string>([...Object.values(SERVICES), STATUS_SERVICE]);

  beforeAll(async () => {
    runtime = await startTestRuntime();
    exported = exposedSeries(await (await fetch(`${runtime.url}/metrics`)).text());
  });

  afterAll(async () => {
    await runtime?.stop();
    if (runtime) removeDir(runtime.stateDir);
  });

  it('is a classic dashboard model of schema version 39, its two data sources variables, its panel ids unique', () => {
    // Prepare
    const d = dashboard();
    const sources = d.templating.list.filter((v) => v['type'] === 'datasource').map((v) => [v['name'], v['query']]);
    const used = new Set(
      d.panels.flatMap((p) => (p.targets ?? []).map((t) => `${t.datasource.type} ${t.datasource.uid}`)),
    );

    // Assess
    expect(d.schemaVersion).toBe(39);
    expect(d.uid).toBe('stepline');
    expect(sources).toEqual([
      ['prometheus', 'prometheus'],
      ['cloudwatch', 'cloudwatch'],
    ]);
    const variable = (name: string): string => `${name} \${${name}}`;
    expect([...used].sort()).toEqual([variable('cloudwatch'), variable('prometheus')]);
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    for (const p of d.panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });

  it('reads on Prometheus only series the local runtime exports', () => {
    // Act + Assess
    expect(exported.size).toBeGreaterThan(20);
    expect(unknownSeries(dashboard(), exported)).toEqual([]);
  });

  it('reads on CloudWatch only metrics Stepline emits or charts, with a service that emits them', () => {
    // Act + Assess
    expect(emitted).toContain(insightContracts.INSIGHT_METRICS.leadTime);
    expect(charted).toContain('AWS/States/ExecutionsStarted');
    expect(unknownMetrics(dashboard(), emitted, charted, services)).toEqual([]);
  });

  it('names a series or a metric Stepline does not have, when a query reads one', () => {
    // Prepare: the dashboard with a query of each kind misspelt
    const d = dashboard();
    const planted = JSON.parse(
      JSON.stringify(d)
        .replace('stepline_deliveries_parked', 'stepline_deliveries_parkd')
        .replace('"LeadTimeForChanges"', '"LeadTime"')
        .replace('"stepline-status"', '"stepline-statuses"'),
    ) as Dashboard;

    // Act
    const series = unknownSeries(planted, exported);
    const metrics = unknownMetrics(planted, emitted, charted, services);

    // Assess
    expect(series).toEqual(['Webhook deliveries and parked deliveries: stepline_deliveries_parkd']);
    expect(metrics).toEqual([
      'Lead time for changes, p50 and p90: Stepline/LeadTime',
      expect.stringContaining('service stepline-statuses'),
    ]);
  });

  it('covers runs, durations by step, deploys per environment, parked deliveries and the four keys, on both', () => {
    // Prepare
    const d = dashboard();
    const promSeries = new Set(targets(d, 'prometheus').flatMap(({ t }) => seriesIn(t.expr ?? '')));
    const cwMetrics = new Set(targets(d, 'cloudwatch').map(({ t }) => t.metricName));

    // Assess
    for (const series of [
      'stepline_runs_started_total',
      'stepline_runs_finished_total',
      'stepline_step_duration_seconds_bucket',
      'stepline_deploys_total',
      'stepline_deliveries_parked',
      DORA_SERIES.frequency,
      DORA_SERIES.leadTime,
      DORA_SERIES.failureRate,
      DORA_SERIES.timeToRestore,
    ]) {
      expect(promSeries, series).toContain(series);
    }
    const { INSIGHT_METRICS } = insightContracts;
    for (const metric of [
      'ExecutionsStarted',
      'ExecutionTime',
      deployContracts.DEPLOY_METRICS.rolloutDone,
      'ApproximateNumberOfMessagesVisible',
      INSIGHT_METRICS.deploySucceeded,
      INSIGHT_METRICS.leadTime,
      INSIGHT_METRICS.changeFailure,
      INSIGHT_METRICS.deploy,
      INSIGHT_METRICS.timeToRestore,
    ]) {
      expect(cwMetrics, metric).toContain(metric);
    }
  });
});
