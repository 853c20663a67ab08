import type { AnalysisMetric } from '../../config/strategy';
import type { RouteEnvironment } from '../../intake/types';
import type { StepInfo } from '../strategies/contracts';

/**
 * The analysis of a canary or blue-green step, as Argo Rollouts defines one (ADR 0068): every `interval` a
 * measurement of each metric, each one Successful, Failed, Inconclusive or Error by its conditions; a metric fails
 * when its failures pass `failureLimit`, errs when its errors in a row pass `consecutiveErrorLimit`, is inconclusive
 * when its inconclusive measurements pass `inconclusiveLimit`, and passes after `count` measurements.
 */

export type MeasurementPhase = 'successful' | 'failed' | 'inconclusive' | 'error';

/** What a provider measured: a value for the conditions, an error (an error run), or nothing yet (a Job running). */
export type Measured =
  | { readonly kind: 'value'; readonly result: unknown }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'pending'; readonly message: string };

export interface MetricTally {
  readonly count: number;
  readonly successful: number;
  readonly failed: number;
  readonly inconclusive: number;
  readonly error: number;
  readonly consecutiveError: number;
  /** The last measurement: its phase and value (or error), for the history and the console. */
  readonly last: { readonly phase: MeasurementPhase; readonly value?: unknown; readonly message?: string } | null;
}

/** The step's analysis so far; the workflow keeps it between measurements (`$measured`). */
export interface Tally {
  /** Measurements taken (rounds of every metric). */
  readonly rounds: number;
  /** Rounds in which every metric was successful: the "checks passed" of the status. */
  readonly passed: number;
  readonly metrics: Readonly<Record<string, MetricTally>>;
}

/** continue: measure again. passed: the step holds no more. failed, error: abort. inconclusive: a person decides. */
export type Verdict = 'continue' | 'passed' | 'failed' | 'error' | 'inconclusive';

/** The result of GetMetricData as the workflow's aws-sdk Task returns it, or the error it caught. */
export type CloudWatchOutcome =
  | { readonly MetricDataResults: readonly Record<string, unknown>[] }
  | { readonly Error: string; readonly Cause?: string };

/** Event of the analysis function: one measurement of the step. */
export interface AnalysisEvent {
  readonly executionName: string;
  readonly environment: RouteEnvironment;
  /** `step` of the deploy or step result. */
  readonly step: StepInfo;
  /** The tally so far; null at the step's first measurement. */
  readonly tally: Tally | null;
  /** GetMetricData's answer when the step has CloudWatch metrics, else null. */
  readonly cloudwatch: CloudWatchOutcome | null;
}

export interface AnalysisResult {
  readonly verdict: Verdict;
  readonly tally: Tally;
  /** For the status: `canary 10% · 3/5 checks passed`. */
  readonly description: string;
  /** Why the verdict, when it is not `continue` or `passed`: which metric, with its last value or error. */
  readonly reason: string | null;
}

/** A metric provider (ADR 0068): one measurement of one metric. Providers never throw: an error is a measurement. */
export interface MetricProvider {
  measure(metric: AnalysisMetric, context: MeasureContext): Promise<Measured>;
}

export interface MeasureContext {
  readonly event: AnalysisEvent;
  /** 0-based: the round this measurement belongs to (`tally.rounds`). */
  readonly round: number;
}
