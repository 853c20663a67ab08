import type { SteplineConfig } from '../../core/config';
import { type AwsApiAnswer, allowedHosts, buildRouter, type Router } from '../server';
import type { LocalBuilds } from './builds';
import type { ComposedFunctions } from './compose-functions';
import type { Env } from './config';
import { awsKeyPair, extraHosts } from './exposure';
import type { LocalInsight } from './insight';
import { metricsRoutes } from './metrics-source';
import { ACCOUNT, REGION, type Runtime, type RuntimeOptions } from './options';
import { LOCAL_RESOURCES } from './pipeline';

/**
 * The router of the runtime's HTTP server (local/server): the AWS APIs, the Lambda API, the status sink, the
 * runtime API with what `GET /api/runtime` describes, the webhooks, the approval pages, the metrics source's routes
 * and what `options.extend` adds (the console); only for this server's names, and beyond loopback with SigV4 on the
 * AWS APIs (ADR 0087).
 */
export function runtimeRouter(options: {
  readonly runtime: Runtime;
  readonly runtimeOptions: RuntimeOptions;
  readonly env: Env;
  readonly log: (line: string) => void;
  readonly config: SteplineConfig;
  readonly aws: AwsApiAnswer;
  readonly composed: ComposedFunctions;
  readonly tools: LocalBuilds['tools'];
  readonly insight: LocalInsight;
}): Router {
  const { runtime, runtimeOptions, composed } = options;
  const { stateDir, host, port } = runtime;
  return buildRouter({
    aws: options.aws,
    lambda: runtime.lambda,
    sink: composed.sink,
    metrics: runtime.metrics,
    api: {
      states: runtime.states,
      executions: runtime.stores.executions,
      builds: runtime.stores.builds,
      codebuild: runtime.codebuild,
      statuses: runtime.stores.statuses,
      approvals: runtime.approvals,
      parking: runtime.stores.parking,
      replay: runtime.replay,
      describe: () => describeRuntime(options),
      events: runtime.events,
      runs: runtime.runs,
    },
    webhook: { functionName: LOCAL_RESOURCES.functions.webhook, maxBodyBytes: composed.maxBodyBytes },
    approvalPages: { functionName: LOCAL_RESOURCES.functions.approvalHttp },
    extend: (r: Router) => {
      metricsRoutes(r, runtime.metricsSource);
      options.insight.routes(r);
      runtimeOptions.extend?.(r, runtime);
    },
    security: {
      allowedHosts: allowedHosts({
        listenHost: host,
        port,
        ...(runtimeOptions.publicUrl ? { publicUrl: runtimeOptions.publicUrl } : {}),
        extra: [...(runtimeOptions.allowedHosts ?? []), ...extraHosts(options.env)],
      }),
      ...(runtimeOptions.listenPublic ? { awsKeys: awsKeyPair(stateDir, options.log) } : {}),
      log: options.log,
    },
  });
}

/** `GET /api/runtime`: where things are, what is configured, whom the runtime decides as. */
function describeRuntime(options: Parameters<typeof runtimeRouter>[0]): Record<string, unknown> {
  const { runtime, composed, config, tools } = options;
  const { url } = runtime;
  const gitHost = composed.gitHost.settings;
  return {
    url,
    stateDir: runtime.stateDir,
    stateMachineArn: runtime.stateMachineArn,
    pipelineLoaded: runtime.pipelineLoaded,
    region: REGION,
    accountId: ACCOUNT,
    kubernetes: runtime.kubernetes,
    gitHost: {
      github: gitHost.baseUrls.github,
      gitlab: gitHost.baseUrls.gitlab,
      bitbucket: gitHost.baseUrls.bitbucket,
      sink: `${url}/githost`,
    },
    buildTools: { dockerEngine: tools.docker, buildah: tools.buildah },
    projects: runtime.codebuild.projectNames(),
    functions: runtime.lambda.names(),
    repositories: config.repositories.map((r) => ({
      provider: r.provider,
      name: r.name,
      branches: r.branches.map((b) => ({ pattern: b.pattern, environments: b.environments })),
      tags: r.tags.map((t) => ({ pattern: t.pattern, environments: t.environments })),
    })),
    identity: runtime.approvals.identity,
    webhooks: ['github', 'gitlab', 'bitbucket'].map((p) => `${url}/webhooks/${p}`),
  };
}
