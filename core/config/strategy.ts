import { z } from 'zod';

/**
 * How an environment rolls a new version out (`environments.<name>.strategy`): `rolling` (the default: the
 * Deployments' own rolling update, judged by their readiness), `canary` (a `<name>-canary` Deployment takes a
 * growing share, each step gated by an analysis of metrics) or `blueGreen` (a preview Deployment and Service,
 * promoted by switching the active Service's selector). ADR 0067 (strategies), 0068 (analysis).
 */

const DeploymentName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,44}[a-z0-9])?$/, {
  message: 'must be the name of a Deployment in the manifests (at most 46 characters, so that "-canary" fits)',
});

const ServiceName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$/, { message: 'must be a Service name (at most 53 characters)' });

/** A condition over a measurement: a JSONata expression over `result` (`result[0] < 0.05`). */
const Condition = z
  .string()
  .min(1)
  .max(1000)
  .describe('A JSONata expression over the measurement, `result` (`result[0] < 0.05`, `$max(result) < 0.01`).');

const CloudWatchProvider = z
  .object({
    metricDataQueries: z
      .array(z.record(z.string(), z.unknown()))
      .min(1)
      .max(20)
      .describe(
        'GetMetricData queries as the API takes them (PascalCase: Id, Expression or MetricStat, ReturnData). `result` ' +
          'is the MetricDataResults of this metric\'s queries ([{"Id", "Label", "Values", "Timestamps"}]).',
      ),
    lookbackSeconds: z
      .number()
      .int()
      .min(60)
      .max(86_400)
      .default(300)
      .describe('The window each measurement reads, ending now. Default 300.'),
  })
  .strict();

const PrometheusProvider = z
  .object({
    address: z
      .url()
      .describe(
        'The Prometheus HTTP API base (`http://prometheus.monitoring:9090`), or an Amazon Managed Prometheus workspace ' +
          '(`https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-…`).',
      ),
    query: z
      .string()
      .min(1)
      .max(4000)
      .describe("A PromQL instant query. `result`: the vector's values, or the scalar."),
    timeoutSeconds: z.number().int().min(1).max(30).default(10).describe('A query that takes longer is an error run.'),
    sigv4: z
      .object({ region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { message: 'must be an AWS region' }) })
      .strict()
      .optional()
      .describe('Sign requests with SigV4 (service `aps`), as Amazon Managed Prometheus requires.'),
  })
  .strict();

const JobProvider = z
  .object({
    spec: z
      .record(z.string(), z.unknown())
      .describe(
        'The Job\'s spec (batch/v1). `result`: {"succeeded": true|false}. The Job runs in the environment\'s namespace.',
      ),
    timeoutSeconds: z
      .number()
      .int()
      .min(10)
      .max(3600)
      .default(600)
      .describe('A Job not finished by then is an error run.'),
  })
  .strict();

const Provider = z.union([
  z.object({ cloudwatch: CloudWatchProvider }).strict(),
  z.object({ prometheus: PrometheusProvider }).strict(),
  z.object({ job: JobProvider }).strict(),
]);

export const AnalysisMetric = z
  .object({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/, {
      message: 'must be 1-32 lowercase letters, digits or dashes',
    }),
    provider: Provider,
    successCondition: Condition.optional(),
    failureCondition: Condition.optional(),
  })
  .strict()
  .superRefine((metric, ctx) => {
    const isJob = 'job' in metric.provider;
    if (!isJob && metric.successCondition === undefined && metric.failureCondition === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['successCondition'],
        message: 'a metric needs a successCondition or a failureCondition (a Job passes when it succeeds)',
      });
    }
  });

export const Analysis = z
  .object({
    interval: z.number().int().min(5).max(3600).default(60).describe('Seconds between two measurements. Default 60.'),
    count: z.number().int().min(1).max(60).default(5).describe('Measurements per step. Default 5.'),
    failureLimit: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Failed measurements a metric may have; one more fails the analysis and aborts. Default 0.'),
    inconclusiveLimit: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Inconclusive measurements a metric may have; one more asks a person to decide. Default 0.'),
    consecutiveErrorLimit: z
      .number()
      .int()
      .min(0)
      .default(4)
      .describe('Errors in a row a metric may have (a query that fails or times out); one more aborts. Default 4.'),
    decision: z
      .object({
        approvers: z.array(z.string().min(1)).default([]).describe('Who may decide: as `approval.approvers`.'),
        timeoutMinutes: z
          .number()
          .int()
          .min(1)
          .max(7 * 24 * 60)
          .default(60),
      })
      .strict()
      .default({ approvers: [], timeoutMinutes: 60 })
      .describe('Who decides an inconclusive analysis, and how long the run waits for them before it aborts.'),
    metrics: z.array(AnalysisMetric).min(1).max(10),
  })
  .strict()
  .superRefine((analysis, ctx) => {
    const seen = new Set<string>();
    analysis.metrics.forEach((metric, i) => {
      if (seen.has(metric.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', i, 'name'],
          message: `metric "${metric.name}" is defined twice`,
        });
      }
      seen.add(metric.name);
    });
  });

const CanaryStep = z
  .object({
    weight: z
      .number()
      .int({ message: 'must be a whole percentage' })
      .min(1, { message: 'must be between 1 and 100' })
      .max(100, { message: 'must be between 1 and 100' })
      .describe("The canary's share, in percent (by replicas, or set on the traffic router)."),
    pauseSeconds: z
      .number()
      .int()
      .min(0)
      .max(24 * 60 * 60)
      .default(0)
      .describe('How long the step holds once its replicas are ready (at least count × interval with an analysis).'),
  })
  .strict();

const TrafficRouting = z.union([
  z
    .object({
      gatewayApi: z
        .object({
          httpRoute: z.string().min(1).describe('The HTTPRoute in the manifests whose backendRefs carry the weights.'),
          stableService: ServiceName,
          canaryService: ServiceName,
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      alb: z
        .object({
          ingress: z.string().min(1).describe('The Ingress (AWS Load Balancer Controller) in the manifests.'),
          action: z.string().min(1).describe('Its `alb.ingress.kubernetes.io/actions.<action>` forward action.'),
          servicePort: z.union([z.number().int().min(1).max(65535), z.string().min(1)]),
          stableService: ServiceName,
          canaryService: ServiceName,
        })
        .strict(),
    })
    .strict(),
]);

const Rolling = z.object({ type: z.literal('rolling') }).strict();

const Canary = z
  .object({
    type: z.literal('canary'),
    workload: DeploymentName.optional().describe('The Deployment to canary. Default: the only Deployment.'),
    steps: z.array(CanaryStep).min(1).max(20),
    analysis: Analysis.optional().describe('Measured during every step; none: each step only waits its pause.'),
    trafficRouting: TrafficRouting.optional().describe(
      'Weights on a Gateway API HTTPRoute or an ALB Ingress instead of by replicas. Default: by replicas.',
    ),
  })
  .strict()
  .superRefine((canary, ctx) => {
    canary.steps.forEach((step, i) => {
      const before = canary.steps[i - 1];
      if (before && step.weight <= before.weight) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'weight'],
          message: `must be greater than the step before (${before.weight}): weights only increase`,
        });
      }
    });
  });

const BlueGreen = z
  .object({
    type: z.literal('blueGreen'),
    workload: DeploymentName.optional().describe('The Deployment to run blue-green. Default: the only Deployment.'),
    activeService: ServiceName.optional().describe(
      "The Service that takes the traffic. Default: the one Service that selects the Deployment's pods.",
    ),
    previewSeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(0)
      .describe('How long the preview runs before the switch.'),
    scaleDownDelaySeconds: z
      .number()
      .int()
      .min(0)
      .max(86_400)
      .default(30)
      .describe('After the switch, how long the old pods stay for an instant rollback. Default 30.'),
    prePromotionAnalysis: Analysis.optional().describe('Measured on the preview, before the switch.'),
    postPromotionAnalysis: Analysis.optional().describe('Measured after the switch, while the old pods are kept.'),
  })
  .strict();

export const Strategy = z.discriminatedUnion('type', [Rolling, Canary, BlueGreen]);

export type Strategy = z.infer<typeof Strategy>;
export type CanaryStrategy = z.infer<typeof Canary>;
export type BlueGreenStrategy = z.infer<typeof BlueGreen>;
export type Analysis = z.infer<typeof Analysis>;
export type AnalysisMetric = z.infer<typeof AnalysisMetric>;
export type TrafficRouting = z.infer<typeof TrafficRouting>;
