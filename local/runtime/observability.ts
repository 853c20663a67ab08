import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../core/contracts/metrics';

/**
 * Logs and metrics of the in-process functions. Each function keeps its Powertools logger (JSON lines on the
 * runtime's standard output, at the runtime's log level) and gets a Powertools `Metrics` whose embedded-metric
 * documents are handed to the runtime (for `/metrics`) instead of being printed.
 */

export type FunctionLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/** One metric a function emitted: its name, value and the dimensions it carried. */
export interface EmittedMetric {
  readonly service: string;
  readonly name: string;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

interface EmfDocument {
  readonly _aws?: {
    readonly CloudWatchMetrics?: readonly {
      readonly Dimensions?: readonly (readonly string[])[];
      readonly Metrics?: readonly { readonly Name: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

/** The metrics of one embedded-metric-format document. */
export function metricsOf(service: string, emf: EmfDocument): EmittedMetric[] {
  const out: EmittedMetric[] = [];
  for (const directive of emf._aws?.CloudWatchMetrics ?? []) {
    const dimensions: Record<string, string> = {};
    for (const set of directive.Dimensions ?? []) {
      for (const name of set)
        if (name !== 'service' && typeof emf[name] === 'string') dimensions[name] = emf[name] as string;
    }
    for (const metric of directive.Metrics ?? []) {
      const raw = emf[metric.Name];
      const values = Array.isArray(raw) ? raw : [raw];
      for (const v of values) if (typeof v === 'number') out.push({ service, name: metric.Name, value: v, dimensions });
    }
  }
  return out;
}

class CapturedMetrics extends Metrics {
  public constructor(
    private readonly service: string,
    private readonly sink: (metrics: EmittedMetric[]) => void,
  ) {
    super({
      namespace: METRICS_NAMESPACE,
      serviceName: service,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
  }

  public override publishStoredMetrics(): this {
    try {
      if (this.hasStoredMetrics())
        this.sink(metricsOf(this.service, this.serializeMetrics() as unknown as EmfDocument));
    } finally {
      this.clearMetrics();
      this.clearDimensions();
      this.clearMetadata();
    }
    return this;
  }
}

export interface FunctionObservability {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function functionObservability(
  service: string,
  level: FunctionLogLevel,
  sink: (metrics: EmittedMetric[]) => void,
): FunctionObservability {
  return { logger: new Logger({ serviceName: service, logLevel: level }), metrics: new CapturedMetrics(service, sink) };
}
