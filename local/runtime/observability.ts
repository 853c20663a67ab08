import { Logger, type LogItem, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../core/contracts/metrics';

/**
 * Logs and metrics of the in-process functions. Each function keeps its Powertools logger (at the runtime's log
 * level, on the runtime's standard output and error: JSON lines as on Lambda, or one readable line per entry for a
 * person at a terminal) and gets a Powertools `Metrics` whose embedded-metric documents are handed to the runtime
 * (for `/metrics`) instead of being printed.
 */

export type FunctionLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/** `json`: Powertools' own JSON lines (what CloudWatch gets on AWS); `text`: `12:03:04.120 WARN stepline-status: …`. */
export type LogFormat = 'text' | 'json';

/** What a Lambda entry carries that says nothing locally (every line has it, or it describes the Lambda sandbox). */
const LAMBDA_KEYS = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'xray_trace_id',
]);

const MAX_VALUE = 160;

function valueText(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value && typeof value === 'object' && 'message' in value && 'name' in value) {
    const e = value as { name: unknown; message: unknown };
    return `${String(e.name)}: ${String(e.message)}`;
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const one = (text ?? String(value)).replace(/\s*\n\s*/g, ' ');
  return one.length > MAX_VALUE ? `${one.slice(0, MAX_VALUE - 1)}…` : one;
}

/** One log entry as a person reads it: time, level, service, message, then its own keys (no stack traces). */
export function readableLogLine(attributes: Readonly<Record<string, unknown>>, now = new Date()): string {
  const time = now.toISOString().slice(11, 23);
  const level = String(attributes['level'] ?? 'INFO').padEnd(5);
  const keys = Object.entries(attributes)
    .filter(([key, value]) => !LAMBDA_KEYS.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${valueText(value)}`);
  return `${time} ${level} ${String(attributes['service'] ?? '')}: ${valueText(attributes['message'] ?? '')}${keys.length ? `  ${keys.join(' ')}` : ''}`;
}

/** A Powertools logger that prints one readable line per entry instead of its JSON document. */
class ReadableLogger extends Logger {
  protected override createLogger(options?: ConstructorOptions): Logger {
    return new ReadableLogger(options);
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    const line = `${readableLogLine(log.getAttributes() as Record<string, unknown>)}\n`;
    // As Powertools' console does: warnings and errors on standard error.
    (logLevel >= LogLevelThreshold.WARN ? process.stderr : process.stdout).write(line);
  }
}

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
  format: LogFormat = 'json',
): FunctionObservability {
  const options = { serviceName: service, logLevel: level };
  const logger = format === 'text' ? new ReadableLogger(options) : new Logger(options);
  return { logger, metrics: new CapturedMetrics(service, sink) };
}
